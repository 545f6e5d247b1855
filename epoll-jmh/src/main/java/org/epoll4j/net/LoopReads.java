package org.epoll4j.net;

/**
 * Benchmark-only switch for {@link BlockingConnection}'s direct read: views made while it is on take every read from
 * what the loop buffered, as the facade did before the reading thread recv(2)ed itself, so the two can be measured
 * side by side. (In package {@code org.epoll4j.net} of this module, on the class path only, for the package-private
 * seam.)
 */
public final class LoopReads {
    private LoopReads() {
    }

    /** Views made from now on read only what the loop buffered for them (the default). */
    public static void on() {
        BlockingConnection.directReads = BlockingConnection.LOOP_READS;
    }

    /** Views made from now on read directly while nothing is buffered ({@code -Depoll4j.blocking.directReads=true}). */
    public static void off() {
        BlockingConnection.directReads = BlockingConnection.DIRECT_READS;
    }
}
