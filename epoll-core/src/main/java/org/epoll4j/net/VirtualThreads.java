package org.epoll4j.net;

import java.lang.reflect.Method;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The thread factories of {@link BlockingService}: virtual threads where the JDK has them (found reflectively, so
 * the library still compiles for and runs on Java 17), daemon platform threads otherwise.
 */
final class VirtualThreads {
    private static final String PREFIX = "epoll4j-blocking-";
    private static final ThreadFactory VIRTUAL = lookup();
    private static final AtomicLong PLATFORM_IDS = new AtomicLong();

    private VirtualThreads() {
    }

    /** Whether {@link #factory()} makes virtual threads. */
    static boolean available() {
        return VIRTUAL != null;
    }

    /** Virtual threads if available, else daemon platform threads; named {@code epoll4j-blocking-N}. */
    static ThreadFactory factory() {
        return VIRTUAL != null ? VIRTUAL : VirtualThreads::platform;
    }

    private static Thread platform(Runnable task) {
        Thread t = new Thread(task, PREFIX + PLATFORM_IDS.getAndIncrement());
        t.setDaemon(true);
        return t;
    }

    /** {@code Thread.ofVirtual().name(PREFIX, 0).factory()}, or null before Java 21 (preview on 19-20 is refused). */
    private static ThreadFactory lookup() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            Class<?> type = Class.forName("java.lang.Thread$Builder");
            builder = type.getMethod("name", String.class, long.class).invoke(builder, PREFIX, 0L);
            Method factory = type.getMethod("factory");
            return (ThreadFactory) factory.invoke(builder);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
