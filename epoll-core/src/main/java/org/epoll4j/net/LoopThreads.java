package org.epoll4j.net;

import org.epoll4j.Reactor;

import java.util.Map;
import java.util.WeakHashMap;

/**
 * Tells whether the calling thread runs a reactor's loop, so that the net layer never blocks one reactor's thread
 * waiting for another (two reactors doing that to each other deadlock).
 *
 * <p>Only reactors the net layer has seen are known (every reactor a {@link TcpServer} was built for). That is
 * enough to rule out a cycle of waits through this package: a thread waits only when it runs no known reactor, and
 * it only ever waits for a known one. A {@code Reactor.current()} in the core would make this exact.
 */
final class LoopThreads {
    private static final Map<Reactor, Boolean> KNOWN = new WeakHashMap<>();

    private LoopThreads() {
    }

    static void remember(Reactor reactor) {
        synchronized (KNOWN) {
            KNOWN.put(reactor, Boolean.TRUE);
        }
    }

    /** Whether the calling thread is running the loop of a reactor known here. */
    static boolean onAnyLoop() {
        synchronized (KNOWN) {
            for (Reactor r : KNOWN.keySet()) {
                if (r != null && r.inEventLoop()) {
                    return true;
                }
            }
        }
        return false;
    }
}
