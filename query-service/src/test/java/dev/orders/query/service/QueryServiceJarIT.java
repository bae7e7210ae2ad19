package dev.orders.query.service;

import dev.orders.testsupport.ProductionJarChecks;
import org.junit.jupiter.api.DisplayName;

@DisplayName("The query side's production jar")
class QueryServiceJarIT extends ProductionJarChecks {

    @Override
    protected String mainClass() {
        return "dev.orders.query.QueryMain";
    }

    @Override
    protected String otherSide() {
        return "dev/orders/command/";
    }

    @Override
    protected String module() {
        return "query-service";
    }
}
