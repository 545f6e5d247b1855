package org.epoll4j.net;

import org.epoll4j.Reactor;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Constructor;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Virtual threads whose scheduler is a {@link Reactor}: each time such a thread is unparked, its continuation runs
 * as a task of the reactor, on the reactor's thread. A blocking handler then costs what a callback does plus one
 * continuation switch each way, with no hand-off between threads (the reactor's read wakes the reader in the same
 * loop iteration, and its write is a send(2) on the loop's own CPU).
 *
 * <p>The JDK has no public API for a virtual thread's scheduler yet; the constructor
 * {@code java.lang.ThreadBuilders.VirtualThreadBuilder(Executor)} (there since Java 21, for the JDK's own tests) is
 * used reflectively, which needs {@code --add-opens java.base/java.lang=ALL-UNNAMED}. Only from Java 24 on: before
 * it, a virtual thread that blocks inside {@code synchronized} pins its carrier (JEP 491), and a pinned carrier that
 * is the reactor would wait for the reactor forever.
 */
final class ReactorCarriedThreads {
    private static final String PREFIX = "epoll4j-on-reactor-";
    private static final AtomicLong IDS = new AtomicLong();
    private static final MethodHandle NEW_BUILDER; // (Executor) -> Thread.Builder.OfVirtual
    private static final MethodHandle UNSTARTED; // (Thread.Builder, Runnable) -> Thread
    private static final MethodHandle NAME; // (Thread.Builder, String) -> Thread.Builder
    /** Why they are not available here, or null if they are. */
    private static final String UNAVAILABLE;

    static {
        MethodHandle newBuilder = null;
        MethodHandle unstarted = null;
        MethodHandle name = null;
        String why = null;
        int feature = Runtime.version().feature();
        if (feature < 24) {
            why = "needs Java 24 or later (a virtual thread blocking in synchronized pins its carrier before JEP 491, "
                    + "and that carrier would be the reactor); this is Java " + feature;
        } else {
            try {
                Class<?> type = Class.forName("java.lang.ThreadBuilders$VirtualThreadBuilder");
                Constructor<?> c = type.getDeclaredConstructor(Executor.class);
                c.setAccessible(true);
                Class<?> builder = Class.forName("java.lang.Thread$Builder");
                MethodHandles.Lookup lookup = MethodHandles.publicLookup();
                newBuilder = MethodHandles.lookup().unreflectConstructor(c)
                        .asType(MethodType.methodType(Object.class, Executor.class));
                unstarted = lookup.findVirtual(builder, "unstarted", MethodType.methodType(Thread.class,
                        Runnable.class)).asType(MethodType.methodType(Thread.class, Object.class, Runnable.class));
                name = lookup.findVirtual(builder, "name", MethodType.methodType(builder, String.class))
                        .asType(MethodType.methodType(Object.class, Object.class, String.class));
            } catch (RuntimeException e) { // InaccessibleObjectException (Java 9+): the package is not opened
                why = "needs --add-opens java.base/java.lang=ALL-UNNAMED (the JVM option, or Add-Opens in the jar's "
                        + "manifest) to give virtual threads the reactor as their scheduler: " + e.getMessage();
            } catch (ReflectiveOperationException | LinkageError e) {
                why = "this JDK has no VirtualThreadBuilder(Executor) to give a virtual thread a scheduler: " + e;
            }
        }
        NEW_BUILDER = newBuilder;
        UNSTARTED = unstarted;
        NAME = name;
        UNAVAILABLE = why;
    }

    private ReactorCarriedThreads() {
    }

    /** Null if reactor-carried virtual threads can be made here, else why not (for the exception). */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /**
     * A new, unstarted virtual thread running {@code task}, whose continuation runs on {@code reactor}'s thread.
     *
     * @throws UnsupportedOperationException if they are not available here (the message says why)
     */
    static Thread newThread(Reactor reactor, Runnable task) {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException("virtual threads on the reactor: " + UNAVAILABLE);
        }
        try {
            Object builder = NEW_BUILDER.invokeExact((Executor) new Scheduler(reactor));
            builder = NAME.invokeExact(builder, PREFIX + IDS.getAndIncrement());
            return (Thread) UNSTARTED.invokeExact(builder, task);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("could not make a virtual thread on " + reactor, t);
        }
    }

    /**
     * Runs continuations as tasks of the reactor. Once the reactor refuses tasks (it closed, and its final drain ran),
     * a thread still parked then, e.g. one that was told its connection closed and went on to wait for something
     * else, runs on a shared daemon thread instead: a continuation must run somewhere, or its thread never ends.
     */
    private static final class Scheduler implements Executor {
        private final Reactor reactor;

        Scheduler(Reactor reactor) {
            this.reactor = reactor;
        }

        @Override
        public void execute(Runnable continuation) {
            try {
                reactor.execute(continuation);
            } catch (RejectedExecutionException closed) {
                Orphans.POOL.execute(continuation);
            }
        }
    }

    /** The carriers of threads that outlived their reactor (made on first need). */
    private static final class Orphans {
        static final ExecutorService POOL = Executors.newCachedThreadPool(task -> {
            Thread t = new Thread(task, "epoll4j-orphaned-virtual-threads");
            t.setDaemon(true);
            return t;
        });
    }
}
