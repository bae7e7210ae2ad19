package dev.orders.service.security;

import dev.orders.service.http.ProblemException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.RoutingContext;

/**
 * The per-customer command rate: a customer's {@code POST} beyond {@code commands.per-second} (with its
 * burst) answers 429 with {@code Retry-After}; operators are not limited.
 */
final class CommandRateGuard implements Handler<RoutingContext> {

    private final SecuritySettings settings;
    private final CommandRateLimiter commandRate;

    CommandRateGuard(SecuritySettings settings) {
        this.settings = settings;
        this.commandRate = new CommandRateLimiter(settings.commandsPerSecond(), settings.commandBurst(), System::nanoTime);
    }

    @Override
    public void handle(RoutingContext ctx) {
        Caller caller = ctx.get(Caller.CONTEXT_KEY);
        if (caller != null && ctx.request().method() == HttpMethod.POST && !caller.operator()) {
            int retryAfter = commandRate.acquire(caller.customerId());
            if (retryAfter > 0) {
                ctx.fail(ProblemException.tooManyRequests("this customer sends commands faster than "
                        + settings.commandsPerSecond() + " per second; retry after " + retryAfter + " s", retryAfter));
                return;
            }
        }
        ctx.next();
    }
}
