package dev.orders.events;

/** The kinds of aggregate whose events are stored; each kind has its own event streams and topic. */
public enum StreamType {
    CUSTOMER("customer"), ORDER("order");

    private final String wireName;

    StreamType(String wireName) {
        this.wireName = wireName;
    }

    /** The lower-case name used in storage, topic names and JSON. */
    public String wireName() {
        return wireName;
    }

    public static StreamType fromWireName(String name) {
        for (StreamType type : values()) {
            if (type.wireName.equals(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown stream type '" + name + "'");
    }
}
