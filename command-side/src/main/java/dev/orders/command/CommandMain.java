package dev.orders.command;

import dev.orders.infra.ServiceLauncher;

/** Runs the command side on its own: the command API, the relay and the saga. */
public final class CommandMain {

    private CommandMain() {
    }

    public static void main(String[] args) {
        ServiceLauncher.service("command-side", "The command side of Orders: REST commands, event store, relay, saga.",
                (vertx, config, servers) -> CommandSide.deploy(vertx, config, servers.commandPgUri(),
                        servers.kafkaBootstrap())).run(args);
    }
}
