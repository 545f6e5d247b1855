package org.epoll4j;

import org.epoll4j.internal.Affinity;
import org.epoll4j.internal.Durations;
import org.epoll4j.internal.Errno;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * N reactors, each running on its own thread: the way to use more than one core. {@link #next()} hands out the
 * reactors round-robin (for a client connection, a timer, a registration); servers spread their connections over
 * all of them.
 *
 * <pre>{@code
 * ReactorGroup group = ReactorGroup.builder().size(4).name("io").build();   // threads io-0 .. io-3, running
 * group.execute(() -> ...);                                                 // on one of them
 * group.shutdownGracefully(Duration.ofMillis(100), Duration.ofSeconds(5)).join();
 * }</pre>
 *
 * <p>Every method is safe from any thread.
 */
public final class ReactorGroup implements Executor, AutoCloseable, Iterable<Reactor> {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration QUIET_CHECK = Duration.ofMillis(10);

    private final String name;
    private final List<Reactor> reactors;
    private final List<Thread> threads;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicBoolean shuttingDown = new AtomicBoolean();
    private final CompletableFuture<Void> terminationFuture = new CompletableFuture<>();
    /** Loops still running; the last one to return completes {@link #terminationFuture} (no extra thread). */
    private final AtomicInteger liveLoops = new AtomicInteger();
    private final List<Runnable> shutdownListeners = new CopyOnWriteArrayList<>();
    private final int[] pinnedCpus;

    private ReactorGroup(Builder b) throws EpollException {
        this.name = b.name;
        List<Reactor> rs = new ArrayList<>(b.size);
        List<Thread> ts = new ArrayList<>(b.size);
        this.pinnedCpus = new int[b.size];
        java.util.Arrays.fill(pinnedCpus, -1);
        if (b.pinThreads) {
            // Reactor i on the i-th CPU this process may use (wrapping around when there are more reactors).
            List<Integer> cpus = Affinity.allowedCpus();
            for (int i = 0; i < b.size; i++) {
                pinnedCpus[i] = cpus.get(i % cpus.size());
            }
        }
        try {
            for (int i = 0; i < b.size; i++) {
                Reactor.Builder rb = Reactor.builder();
                b.reactorSettings.accept(rb);
                rs.add(rb.name(b.name + "-" + i).build());
            }
            CountDownLatch running = new CountDownLatch(b.size);
            for (int i = 0; i < rs.size(); i++) {
                Reactor r = rs.get(i);
                // Runs in the loop's first iteration: once it has, the thread owns the reactor.
                r.execute(running::countDown);
                Runnable loop = loop(r, pinnedCpus[i], this::loopEnded);
                liveLoops.incrementAndGet();
                Thread t = b.threadFactory != null ? b.threadFactory.newThread(loop) : defaultThread(loop, r, b.daemon);
                if (t == null) {
                    throw new IllegalStateException(name + ": the ThreadFactory returned no thread for " + r.name());
                }
                t.start();
                ts.add(t);
            }
            if (!running.await(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(name + ": reactor threads did not start within " + START_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closeAll(rs, ts);
            throw new IllegalStateException(name + ": interrupted while starting", e);
        } catch (EpollException | RuntimeException | Error e) {
            closeAll(rs, ts);
            throw e;
        }
        this.reactors = List.copyOf(rs);
        this.threads = List.copyOf(ts);
    }

    private void loopEnded() {
        if (liveLoops.decrementAndGet() == 0) {
            terminationFuture.complete(null);
        }
    }

    private static Runnable loop(Reactor r, int cpu, Runnable ended) {
        return () -> {
            if (cpu >= 0) {
                int err = Affinity.pinCurrentThread(cpu);
                if (err != 0) {
                    System.getLogger(ReactorGroup.class.getName()).log(System.Logger.Level.WARNING,
                            r.name() + ": cannot pin to CPU " + cpu + ": " + Errno.describe(err) + "; running unpinned");
                }
            }
            try {
                r.run();
            } catch (ClosedReactorException e) {
                // closed before the loop got going
            } catch (Throwable e) {
                System.getLogger(ReactorGroup.class.getName()).log(System.Logger.Level.ERROR, r.name() + " stopped", e);
                r.close();
            } finally {
                ended.run();
            }
        };
    }

    private static Thread defaultThread(Runnable loop, Reactor r, boolean daemon) {
        Thread t = new Thread(loop, r.name());
        t.setDaemon(daemon);
        return t;
    }

    private static void closeAll(List<Reactor> rs, List<Thread> ts) {
        for (Reactor r : rs) {
            r.close();
        }
        for (Thread t : ts) {
            try {
                t.join(START_TIMEOUT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * A running group of {@code size} reactors with default settings (daemon threads named {@code epoll4j-N}).
     *
     * @param size how many reactors, 1 or more
     * @return the running group
     * @throws EpollException if a reactor cannot be created (e.g. EMFILE); none is left open then
     */
    public static ReactorGroup open(int size) throws EpollException {
        return builder().size(size).build();
    }

    /** A builder for a group with non-default settings. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings for a new {@link ReactorGroup}. */
    public static final class Builder {
        private int size = Runtime.getRuntime().availableProcessors();
        private String name = "epoll4j";
        private ThreadFactory threadFactory;
        private boolean daemon = true;
        private boolean pinThreads;
        private Consumer<Reactor.Builder> reactorSettings = b -> { };

        private Builder() {
        }

        /**
         * How many reactors (default: the number of available processors).
         *
         * @param size 1 to 4096
         * @return this builder
         */
        public Builder size(int size) {
            if (size < 1 || size > 4096) {
                throw new IllegalArgumentException("ReactorGroup size must be 1..4096: " + size);
            }
            this.size = size;
            return this;
        }

        /**
         * The group's name (default {@code epoll4j}); reactor {@code i} is named {@code name-i}, and so is its
         * thread unless a {@link #threadFactory} names it otherwise.
         *
         * @param name a non-empty name
         * @return this builder
         */
        public Builder name(String name) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("ReactorGroup name must not be empty");
            }
            this.name = name;
            return this;
        }

        /**
         * Makes the reactor threads (default: one named after each reactor, daemon as {@link #daemon} says).
         *
         * @param factory called once per reactor with the runnable that runs its loop
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = Objects.requireNonNull(factory, "threadFactory");
            return this;
        }

        /**
         * Whether the default threads are daemon threads (default true: they do not keep the JVM alive). Ignored
         * with a {@link #threadFactory}.
         *
         * @param daemon daemon or not
         * @return this builder
         */
        public Builder daemon(boolean daemon) {
            this.daemon = daemon;
            return this;
        }

        /**
         * Pins reactor {@code i}'s thread to the {@code i}-th CPU this process may run on (sched_setaffinity;
         * default off). Helps when each reactor should keep its caches and its NIC queue's interrupts on one core;
         * hurts when other busy threads share those cores. A CPU the kernel refuses is logged and left unpinned.
         *
         * @param pin whether to pin
         * @return this builder
         */
        public Builder pinThreads(boolean pin) {
            this.pinThreads = pin;
            return this;
        }

        /**
         * Settings applied to every reactor's builder (event capacity, error handler, debug mode); the name is
         * the group's.
         *
         * @param settings called once per reactor
         * @return this builder
         */
        public Builder reactorSettings(Consumer<Reactor.Builder> settings) {
            this.reactorSettings = Objects.requireNonNull(settings, "reactorSettings");
            return this;
        }

        /**
         * Creates the reactors and starts their threads; returns when every loop runs.
         *
         * @return the running group
         * @throws EpollException if a reactor cannot be created; none is left open then
         */
        public ReactorGroup build() throws EpollException {
            return new ReactorGroup(this);
        }
    }

    // ---------------------------------------------------------------- choosing and running

    /** The next reactor, round-robin. */
    public Reactor next() {
        return reactors.get(Math.floorMod(next.getAndIncrement(), reactors.size()));
    }

    /**
     * Reactor {@code index}.
     *
     * @param index 0 to {@link #size()} - 1
     * @return the reactor
     */
    public Reactor reactor(int index) {
        return reactors.get(index);
    }

    /** The reactors, in index order (an unmodifiable list). */
    public List<Reactor> reactors() {
        return reactors;
    }

    /** How many reactors the group has. */
    public int size() {
        return reactors.size();
    }

    @Override
    public Iterator<Reactor> iterator() {
        return reactors.iterator();
    }

    /**
     * The CPU reactor {@code index}'s thread was pinned to, or -1 when the group does not pin threads.
     *
     * @param index 0 to {@link #size()} - 1
     * @return the CPU number, or -1
     */
    public int pinnedCpu(int index) {
        return pinnedCpus[index];
    }

    /** The group's name. */
    public String name() {
        return name;
    }

    /** The reactor whose thread is the caller, or {@code null} if the caller is not one of the group's threads. */
    public Reactor current() {
        Reactor r = Reactor.current();
        return r != null && reactors.contains(r) ? r : null;
    }

    /**
     * Runs {@code task} on the {@link #next()} reactor.
     *
     * @param task the task
     * @throws RejectedExecutionException if the group is shutting down or closed
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (shuttingDown.get()) {
            throw new RejectedExecutionException(name + " is shutting down");
        }
        next().execute(task);
    }

    /**
     * Runs {@code task} once on every reactor's thread (each gets the same runnable).
     *
     * @param task the task
     * @throws RejectedExecutionException if the group is shutting down or closed; reactors that had already
     *                                    accepted it still run it
     */
    public void executeOnAll(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (shuttingDown.get()) {
            throw new RejectedExecutionException(name + " is shutting down");
        }
        for (Reactor r : reactors) {
            r.execute(task);
        }
    }

    // ---------------------------------------------------------------- shutting down

    /**
     * Adds a listener that {@link #shutdownGracefully} runs first, on the calling thread: where servers on the
     * group stop accepting and close their connections gracefully (sending what is queued).
     *
     * @param listener the listener; it must not block
     */
    public void addShutdownListener(Runnable listener) {
        shutdownListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Shuts down without cutting off work in flight: new {@link #execute} calls are refused, the shutdown
     * listeners run (servers stop accepting and close their connections gracefully), then each reactor closes once
     * it has had no registrations and no task or event activity for {@code quietPeriod}, or when {@code timeout}
     * has passed since this call, whichever comes first. Idempotent: later calls return the same future.
     *
     * @param quietPeriod how long a reactor must have been idle before it closes
     * @param timeout     the longest the whole shutdown may take before reactors are closed regardless
     * @return completes when every reactor is closed and its loop has returned (its thread is ending;
     *         {@link #awaitTermination} also waits for the threads themselves)
     */
    public CompletableFuture<Void> shutdownGracefully(Duration quietPeriod, Duration timeout) {
        Objects.requireNonNull(quietPeriod, "quietPeriod");
        Objects.requireNonNull(timeout, "timeout");
        if (!shuttingDown.compareAndSet(false, true)) {
            return terminationFuture;
        }
        for (Runnable l : shutdownListeners) {
            try {
                l.run();
            } catch (Throwable t) {
                System.getLogger(ReactorGroup.class.getName()).log(System.Logger.Level.WARNING,
                        name + ": shutdown listener failed", t);
            }
        }
        long deadline = System.nanoTime() + Durations.saturatedNanos(timeout);
        long quietNanos = Durations.saturatedNanos(quietPeriod);
        for (Reactor r : reactors) {
            QuietWatch watch = new QuietWatch(r, quietNanos, deadline);
            try {
                r.execute(watch::check);
            } catch (RejectedExecutionException closed) {
                // already closed (or closing): its loop ends on its own
            }
        }
        return terminationFuture;
    }

    /** Closes its reactor once it has been quiet for the quiet period, or at the deadline. Runs on its loop. */
    private static final class QuietWatch {
        private final Reactor reactor;
        private final long quietNanos;
        private final long deadline;
        private long lastActivity;
        private long quietSince = System.nanoTime();

        QuietWatch(Reactor reactor, long quietNanos, long deadline) {
            this.reactor = reactor;
            this.quietNanos = quietNanos;
            this.deadline = deadline;
        }

        void check() {
            long now = System.nanoTime();
            ReactorStats s = reactor.loopStats(); // loop counters only: no walk over the connections
            // Each check is itself one task or timer run: anything beyond that is someone else's work.
            long activity = s.eventsDispatched() + s.tasksRun() + s.timersFired() - rounds;
            rounds++;
            if (activity != lastActivity || s.registrations() > 0) {
                lastActivity = activity;
                quietSince = now;
            }
            if (now - quietSince >= quietNanos || now - deadline >= 0) {
                reactor.close(); // from its own loop: closes when this iteration ends
                return;
            }
            reactor.schedule(QUIET_CHECK, this::check);
        }

        private long rounds;
    }

    /**
     * Closes every reactor now (handlers get {@link Handler#onClosed} with a {@link ClosedReactorException}; queued
     * bytes of connections are dropped: use {@link #shutdownGracefully} to let them finish) and waits for their
     * threads to end. Idempotent.
     *
     * <p><b>On a loop thread</b> (one of this group's, or any other reactor's: {@link Reactor#current()} is not
     * null) it only requests the close of every reactor and returns without waiting: a loop waiting for another loop
     * that does the same would never return, and a loop cannot wait for itself. Use {@link #terminationFuture()} to
     * act once every loop has ended.
     */
    @Override
    public void close() {
        shuttingDown.set(true);
        for (Reactor r : reactors) {
            r.close();
        }
        if (Reactor.current() != null) {
            return; // requested only; terminationFuture() completes when the last loop ends
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        terminationFuture.complete(null);
    }

    /**
     * Blocks until every reactor is closed and its thread has ended, or the timeout passes.
     *
     * @param timeout the longest wait
     * @return whether the group terminated in time
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + Durations.saturatedNanos(timeout);
        for (Reactor r : reactors) {
            if (!r.awaitTermination(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                return false;
            }
        }
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            if (left <= 0 && t.isAlive()) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedJoin(t, Math.max(1, left));
            if (t.isAlive()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Completes once every reactor is closed and its loop has returned (as Netty's
     * {@code EventExecutorGroup.terminationFuture()}); the way for code on one of the group's own threads to act on
     * the end of the group, since {@link #close()} there does not wait. Dependent actions run on the last loop
     * thread to end.
     *
     * @return a future that completes normally, never exceptionally (completing it yourself has no effect on the
     *         group)
     */
    public CompletableFuture<Void> terminationFuture() {
        return terminationFuture.copy();
    }

    /** Whether {@link #shutdownGracefully} or {@link #close()} has been called. */
    public boolean isShuttingDown() {
        return shuttingDown.get();
    }

    /** Whether every reactor is closed. */
    public boolean isTerminated() {
        for (Reactor r : reactors) {
            if (!r.isClosed()) {
                return false;
            }
        }
        return terminationFuture.isDone();
    }

    @Override
    public String toString() {
        return "ReactorGroup[" + name + ", " + reactors.size() + " reactors" + (shuttingDown.get() ? ", shutting down"
                : "") + "]";
    }
}
