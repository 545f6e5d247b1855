package org.epoll4j.internal;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The connection and memory figures a layer above the reactor adds to {@code Reactor.stats()}: the reactor package
 * must not know the net layer, so that layer registers one {@link Source} per reactor here, and the reactor asks it
 * for its figures when a snapshot is taken (nothing is counted per read or write for this).
 *
 * <p>One instance accumulates one snapshot: every source adds to its fields. Not thread-safe; a source is asked from
 * any thread and must read only values that are safe to read from any thread.
 */
public final class IoFigures {
    /** Sources by owner (a reactor), weakly: observation must not keep a dropped reactor alive. */
    private static final Map<Object, List<Source>> SOURCES = Collections.synchronizedMap(new WeakHashMap<>());

    /** Connections open now. */
    public int connections;
    /** Open connections whose reading is paused (for any reason). */
    public int pausedConnections;
    /** Bytes written by the application and not yet accepted by the kernel (TLS: plaintext held included). */
    public long queuedBytes;
    /** Bytes read from sockets: live connections' counts plus the totals of closed ones. */
    public long bytesRead;
    /** Bytes the kernel accepted: live connections' counts plus the totals of closed ones. */
    public long bytesWritten;
    /** Direct (off-heap) buffer bytes held, pooled buffers included. */
    public long directMemoryBytes;

    /** Something that contributes to a reactor's snapshot; asked from any thread. */
    @FunctionalInterface
    public interface Source {
        /**
         * Adds this source's figures to {@code into}.
         *
         * @param into the snapshot being built
         */
        void addTo(IoFigures into);
    }

    /**
     * Makes {@code source} contribute to {@code owner}'s snapshots, beside the sources registered before. The
     * registry holds owners weakly and sources strongly, so a source must refer to its owner only through what the
     * owner's close releases (the net layer's does through its open connections, which a reactor's close closes), or
     * be {@link #unregister unregistered} when it ends (a datagram endpoint's does when its registration ends).
     *
     * @param owner  the reactor
     * @param source a contributor
     */
    public static void register(Object owner, Source source) {
        SOURCES.computeIfAbsent(owner, o -> new CopyOnWriteArrayList<>()).add(source);
    }

    /**
     * Stops {@code source} contributing to {@code owner}'s snapshots (nothing if it does not).
     *
     * @param owner  the reactor
     * @param source the contributor
     */
    public static void unregister(Object owner, Source source) {
        List<Source> list = SOURCES.get(owner);
        if (list != null) {
            list.remove(source);
        }
    }

    /**
     * Adds {@code owner}'s registered figures, if any, to {@code into}.
     *
     * @param owner the reactor
     * @param into  the snapshot being built
     */
    public static void collect(Object owner, IoFigures into) {
        List<Source> list = SOURCES.get(owner);
        if (list != null) {
            for (Source s : list) {
                s.addTo(into);
            }
        }
    }
}
