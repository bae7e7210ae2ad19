package dev.orders.command.service;

import dev.orders.testsupport.ProductionJarChecks;
import org.junit.jupiter.api.DisplayName;

@DisplayName("The command side's production jar")
class CommandServiceJarIT extends ProductionJarChecks {

    @Override
    protected String mainClass() {
        return "dev.orders.command.CommandMain";
    }

    @Override
    protected String otherSide() {
        return "dev/orders/query/";
    }

    @Override
    protected String module() {
        return "command-service";
    }
}
