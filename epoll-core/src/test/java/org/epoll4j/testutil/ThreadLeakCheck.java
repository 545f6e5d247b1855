package org.epoll4j.testutil;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Fails a test class that leaves threads behind: every thread started during the class that is not a daemon, and
 * every thread whose name starts with {@link #REACTOR_PREFIX} (the name tests give their reactors, whose threads are
 * named after them), must have ended by the end of the class. Threads get up to five seconds to finish.
 *
 * <p>Test classes use {@code @ExtendWith(ThreadLeakCheck.class)}.
 */
public final class ThreadLeakCheck implements BeforeAllCallback, AfterAllCallback {
    /** Tests name their reactors with this prefix so their loop threads can be found. */
    public static final String REACTOR_PREFIX = "nettest-";
    /** Test-framework threads that live for the rest of the run once started. */
    private static final Set<String> FRAMEWORK_THREADS = Set.of("junit-jupiter-timeout-watcher");
    private static final Map<String, Set<Thread>> BEFORE = new ConcurrentHashMap<>();

    @Override
    public void beforeAll(ExtensionContext context) {
        BEFORE.put(context.getUniqueId(), Thread.getAllStackTraces().keySet());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        check(context.getDisplayName(), BEFORE.remove(context.getUniqueId()));
    }

    private static void check(String what, Set<Thread> before) {
        if (before == null) {
            return;
        }
        List<Thread> suspects = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            boolean reactor = t.getName().startsWith(REACTOR_PREFIX);
            if (t.isAlive() && (reactor || (!before.contains(t) && !t.isDaemon()
                    && !FRAMEWORK_THREADS.contains(t.getName())))) {
                suspects.add(t);
            }
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (Thread t : suspects) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left > 0) {
                try {
                    t.join(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted while waiting for " + t.getName(), e);
                }
            }
        }
        List<Thread> alive = suspects.stream().filter(Thread::isAlive).collect(Collectors.toList());
        if (!alive.isEmpty()) {
            throw new AssertionError(what + " left " + alive.size() + " thread(s) running: " + alive.stream()
                    .map(t -> t.getName() + (t.isDaemon() ? " (daemon)" : ""))
                    .collect(Collectors.joining(", ")));
        }
    }
}
