package org.epoll4j.net;

/**
 * Benchmark-only switch for {@link BlockingConnection}'s direct send: views made while it is on hand every write to
 * the loop, as the facade did before {@link Connection} sent directly from the writer's thread, so the two can be
 * measured side by side. (In package {@code org.epoll4j.net} of this module, on the class path only, for the
 * package-private seam.)
 */
public final class HandOffWrites {
    private HandOffWrites() {
    }

    /** Views made from now on hand every write to the loop. */
    public static void on() {
        BlockingConnection.directSends = c -> null;
    }

    /** Views made from now on send directly while nothing is queued (the default). */
    public static void off() {
        BlockingConnection.directSends = BlockingConnection.DIRECT_SENDS;
    }
}
