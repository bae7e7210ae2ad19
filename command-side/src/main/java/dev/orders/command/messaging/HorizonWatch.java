package dev.orders.command.messaging;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Measures how far the relay is behind and, while committed events wait behind the transaction horizon,
 * names the transaction that holds it (a session of any application in any database of the server, or a
 * prepared transaction). The active relay warns about one that has run longer than the warning age.
 */
final class HorizonWatch {

    private static final Logger LOG = LoggerFactory.getLogger(HorizonWatch.class);

    /** What one look found. */
    record Lag(long unpublished, double secondsBehind, long lastPosition, HorizonHolder holder) {
    }

    private final Pool pool;
    private final Duration warnAfter;
    private long lastWarning;

    HorizonWatch(Pool pool, Duration warnAfter) {
        this.pool = pool;
        this.warnAfter = warnAfter;
    }

    /** Looks once; {@code warn} when this relay is the active one. */
    Future<Lag> look(boolean warn) {
        return pool.query(RelaySql.LAG).execute().compose(rows -> {
            Row row = rows.iterator().next();
            long unpublished = row.getLong("unpublished");
            double behind = row.getDouble("seconds_behind");
            long position = row.getLong("last_position");
            Future<HorizonHolder> holder = row.getLong("blocked") > 0 ? holder() : Future.succeededFuture();
            return holder.map(h -> {
                if (h != null && warn) {
                    warn(h, unpublished, behind);
                }
                return new Lag(unpublished, behind, position, h);
            });
        });
    }

    private Future<HorizonHolder> holder() {
        return pool.query(RelaySql.HORIZON_HOLDER).execute().map(rows -> {
            if (rows.size() == 0) {
                return null;
            }
            Row row = rows.iterator().next();
            return new HorizonHolder(row.getInteger("pid"), row.getString("application_name"), row.getString("datname"),
                    row.getString("state"), row.getString("gid"), row.getDouble("age_seconds"), row.getString("query"));
        });
    }

    private void warn(HorizonHolder holder, long waiting, double behind) {
        long now = System.nanoTime();
        boolean quiet = lastWarning != 0 && now - lastWarning < warnAfter.toNanos();
        if (holder.ageSeconds() >= warnAfter.toMillis() / 1000.0 && !quiet) {
            lastWarning = now;
            LOG.warn("the relay's horizon is held by {}; {} events wait, {} s behind", holder.describe(), waiting,
                    Math.round(behind));
        }
    }
}
