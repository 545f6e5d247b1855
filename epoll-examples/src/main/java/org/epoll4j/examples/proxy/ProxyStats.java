package org.epoll4j.examples.proxy;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counters, shared by every reactor: updated per connection (not per chunk), except the queue peak,
 * which is read per chunk and written only when it grows.
 */
public final class ProxyStats {
    /** Client connections accepted and relayed (not those over the cap). */
    final LongAdder relayed = new LongAdder();
    /** Client connections closed at once because {@code --max-connections} were open. */
    final LongAdder overCap = new LongAdder();
    /** Client connections closed because the upstream connect failed (refused, timed out, name not found). */
    final LongAdder upstreamFailed = new LongAdder();
    /** Pairs closed because nothing moved either way for the idle timeout. */
    final LongAdder idleClosed = new LongAdder();
    /** Bytes read from clients (relayed upstream). */
    final LongAdder bytesUp = new LongAdder();
    /** Bytes read from upstreams (relayed to clients). */
    final LongAdder bytesDown = new LongAdder();
    /** Client connections open now (over-cap ones excluded). */
    final AtomicInteger active = new AtomicInteger();
    /** The most bytes ever queued in the proxy for one connection's socket. */
    final AtomicLong peakQueued = new AtomicLong();
    /** Run after each change a test may wait for (a connection closed, a new queue peak); null when nobody waits. */
    private final Runnable onChange;

    /** @param onChange run (on a reactor thread) after each connection closes and each new queue peak, or null */
    ProxyStats(Runnable onChange) {
        this.onChange = onChange;
    }

    /** @return client connections relayed so far */
    public long relayed() {
        return relayed.sum();
    }

    /** @return client connections refused because the cap was reached */
    public long overCap() {
        return overCap.sum();
    }

    /** @return client connections closed because their upstream could not be reached */
    public long upstreamFailed() {
        return upstreamFailed.sum();
    }

    /** @return pairs closed by the idle timeout */
    public long idleClosed() {
        return idleClosed.sum();
    }

    /** @return bytes relayed from clients to upstreams, counted as each client connection closes */
    public long bytesUp() {
        return bytesUp.sum();
    }

    /** @return bytes relayed from upstreams to clients, counted as each upstream connection closes */
    public long bytesDown() {
        return bytesDown.sum();
    }

    /** @return client connections open now */
    public int active() {
        return active.get();
    }

    /** @return the largest user-space queue the proxy ever held for one socket, in bytes */
    public long peakQueued() {
        return peakQueued.get();
    }

    /** Records {@code queued} if it is a new peak (a plain read first: the peak rarely grows). */
    void queued(long queued) {
        if (queued > peakQueued.get()) {
            peakQueued.accumulateAndGet(queued, Math::max);
            changed();
        }
    }

    /** A connection of a pair closed (its fd is closed already), or a counter moved: tells whoever waits. */
    void changed() {
        if (onChange != null) {
            onChange.run();
        }
    }

    /** The summary line printed on exit. */
    String summary() {
        return relayed() + " connections relayed, " + upstreamFailed() + " upstream failures, " + overCap()
                + " over the cap, " + idleClosed() + " idle closed, " + bytesUp() + " bytes up, " + bytesDown()
                + " bytes down, peak queue " + peakQueued() + " bytes";
    }
}
