package dev.orders.app;

/**
 * The jar's entry point, compiled for Java 8 so that it runs on any JVM: it checks for Java 21 or
 * newer and then hands over to {@code OrdersApp}. On an older JVM it prints one clear line and exits 1.
 */
public final class Launcher {

    private static final int REQUIRED = 21;

    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        int feature = featureVersion(System.getProperty("java.specification.version", "1.8"));
        if (feature < REQUIRED) {
            System.err.println("orders: needs Java " + REQUIRED + " or newer, but runs on Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.home")
                    + "); point JAVA_HOME at a JDK 21+");
            System.exit(1);
        }
        Class.forName("dev.orders.app.OrdersApp").getMethod("main", String[].class).invoke(null, (Object) args);
    }

    private static int featureVersion(String specification) {
        String major = specification.startsWith("1.") ? specification.substring(2) : specification;
        int dot = major.indexOf('.');
        try {
            return Integer.parseInt(dot < 0 ? major : major.substring(0, dot));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
