package dev.orders.command.domain;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Scales the tries of a property by the system property {@code orders.test.scale} (default 1): a
 * property asking for no tries of its own runs {@value #BASE_TRIES} times the scale.
 */
final class ScaledTries implements AroundPropertyHook {

    static final int BASE_TRIES = 1000;

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        int scale = Math.max(1, Integer.getInteger("orders.test.scale", 1));
        int tries = context.attributes().tries().orElse(BASE_TRIES);
        context.attributes().setTries(tries * scale);
        return property.execute();
    }
}
