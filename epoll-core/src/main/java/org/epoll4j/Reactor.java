package org.epoll4j;

import org.epoll4j.internal.EpollPwait2;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * One epoll instance driven by one thread: registrations of any pollable fd, tasks, timers and wake-ups.
 *
 * <p>Drive it either with {@link #run()} (loops until {@link #close()}) or, when embedding it in a loop of your
 * own, with {@link #poll(Duration)}, one iteration on the calling thread. One iteration waits in epoll_wait (no
 * longer than the next timer or pending task allows), dispatches the events, fires due timers and runs queued
 * tasks. {@link #execute}, {@link #schedule}, {@link #wakeup()} and {@link #close()} are safe from any thread;
 * registering and changing registrations belong to the reactor's thread, or to any thread while no thread is
 * running the reactor.
 *
 * <pre>{@code
 * try (Reactor reactor = Reactor.open()) {
 *     reactor.register(fd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> handle(reg.fd()));
 *     reactor.run();          // until reactor.close() from a handler, a task or another thread
 * }
 * }</pre>
 */
public final class Reactor implements Executor, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Reactor.class.getName());
    private static final long WAKEUP_TOKEN = -1L;
    private static final long AWAKE = -1L;
    private static final long NO_DEADLINE = Long.MAX_VALUE;
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;
    private static final int MAX_TASKS_PER_ITERATION = 1024;
    private static final int MAX_EVENT_CAPACITY = 1 << 16;

    private final String name;
    private final int epfd;
    private final int wakeFd;
    private final EventBuffer events;
    private final EventBuffer ctlEvent = new EventBuffer(1);
    private final ByteBuffer scratch8 = NativeMemory.allocate(8);
    private final long scratch8Addr = NativeMemory.address(scratch8);
    private final ByteBuffer timespec = NativeMemory.allocate(16);
    private final long timespecAddr = NativeMemory.address(timespec);
    private final boolean debugEdgeStalls;
    private final BiConsumer<Registration, Throwable> errorHandler;

    private final RegistrationTable table = new RegistrationTable();

    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final TimerQueue timers = new TimerQueue();
    private long timerSeq;

    /** AWAKE while the loop is busy; otherwise the nanoTime it will wake by itself (NO_DEADLINE: never). */
    private final AtomicLong nextWakeup = new AtomicLong(AWAKE);
    private final AtomicReference<Thread> owner = new AtomicReference<>();
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private final CountDownLatch terminated = new CountDownLatch(1);
    private volatile Thread loopThread;

    // Counters: written by the loop thread only (except wakeups), read racily by stats().
    private long loopIterations;
    private long epollWaits;
    private long eventsDispatched;
    private long staleEventsDropped;
    private final AtomicLong wakeupsWritten = new AtomicLong();
    private long tasksRun;
    private long timersFired;
    private long handlerFailures;
    private long edgeStallsReported;

    private Reactor(Builder b) throws EpollException {
        EventBuffer.verifyLayout();
        this.name = b.name;
        this.debugEdgeStalls = b.debugEdgeStalls;
        this.errorHandler = b.errorHandler != null ? b.errorHandler : Reactor::logHandlerFailure;
        this.events = new EventBuffer(b.eventCapacity);
        int ep = LibC.epoll_create1(LibC.EPOLL_CLOEXEC);
        if (ep < 0) {
            throw new EpollException("epoll_create1(EPOLL_CLOEXEC)", LibC.errno());
        }
        int wfd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (wfd < 0) {
            int err = LibC.errno();
            LibC.close(ep);
            throw new EpollException("eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK)", err);
        }
        ctlEvent.set(0, LibC.EPOLLIN, WAKEUP_TOKEN);
        if (LibC.epoll_ctl(ep, LibC.EPOLL_CTL_ADD, wfd, ctlEvent.address()) != 0) {
            int err = LibC.errno();
            LibC.close(wfd);
            LibC.close(ep);
            throw new EpollException("epoll_ctl(ADD, eventfd=" + wfd + ")", err);
        }
        this.epfd = ep;
        this.wakeFd = wfd;
    }

    /**
     * A reactor with default settings.
     *
     * @return the new reactor
     * @throws EpollException if the epoll instance or its eventfd cannot be created (e.g. EMFILE)
     */
    public static Reactor open() throws EpollException {
        return builder().build();
    }

    /** A builder for a reactor with non-default settings. */
    public static Builder builder() {
        return new Builder();
    }

    /** Settings for a new {@link Reactor}. */
    public static final class Builder {
        private String name = "epoll4j-reactor";
        private int eventCapacity = 256;
        private boolean debugEdgeStalls = Boolean.getBoolean("epoll4j.debug");
        private BiConsumer<Registration, Throwable> errorHandler;

        private Builder() {
        }

        /**
         * The reactor's name, used for its thread by {@link #start()} and in messages.
         *
         * @param name a non-empty name
         * @return this builder
         */
        public Builder name(String name) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("reactor name must not be empty");
            }
            this.name = name;
            return this;
        }

        /**
         * The initial number of events one epoll_wait can return (default 256). The array doubles, up to 65536,
         * whenever a wait fills it.
         *
         * @param capacity 1 to 65536
         * @return this builder
         */
        public Builder eventCapacity(int capacity) {
            if (capacity < 1 || capacity > MAX_EVENT_CAPACITY) {
                throw new IllegalArgumentException("eventCapacity must be 1.." + MAX_EVENT_CAPACITY + ": " + capacity);
            }
            this.eventCapacity = capacity;
            return this;
        }

        /**
         * Debug mode (default: the system property {@code epoll4j.debug}): after each EDGE handler call on a
         * readable fd, ask the kernel how many bytes remain (ioctl FIONREAD) and report a handler that returned
         * with bytes unread: under EDGE it will not be told again until more data arrives, the classic stall.
         * Costs one extra system call per EDGE read event.
         *
         * @param enabled whether to check
         * @return this builder
         */
        public Builder debugEdgeStalls(boolean enabled) {
            this.debugEdgeStalls = enabled;
            return this;
        }

        /**
         * Receives every throwable a handler, task or timer throws (default: log at WARNING through
         * {@link System.Logger}). For a task or timer the registration is {@code null}.
         *
         * @param handler the error handler; it must not throw
         * @return this builder
         */
        public Builder errorHandler(BiConsumer<Registration, Throwable> handler) {
            this.errorHandler = Objects.requireNonNull(handler, "errorHandler");
            return this;
        }

        /**
         * Creates the reactor.
         *
         * @return the new reactor
         * @throws EpollException if the epoll instance or its eventfd cannot be created
         */
        public Reactor build() throws EpollException {
            return new Reactor(this);
        }
    }

    // ---------------------------------------------------------------- registration

    /**
     * Watches {@code fd}.
     *
     * @param fd       any pollable fd (socket, pipe, eventfd, timerfd, signalfd, inotify ...); it stays the caller's
     * @param interest what to report
     * @param mode     LEVEL or EDGE; EDGE needs a non-blocking fd and fails clearly on a blocking one
     * @param handler  receives the events
     * @param options  ONESHOT and/or EXCLUSIVE
     * @return the registration
     * @throws EpollException           if epoll_ctl fails (EBADF: not open; EPERM: not pollable, e.g. a regular
     *                                  file; EEXIST: already registered on this reactor)
     * @throws IllegalArgumentException for a negative fd, or EDGE on a blocking fd
     * @throws ClosedReactorException   if the reactor is closed
     * @throws IllegalStateException    if another thread is running the reactor
     */
    public Registration register(int fd, Interest interest, TriggerMode mode, Handler handler,
                                 RegistrationOption... options) throws EpollException {
        Objects.requireNonNull(interest, "interest");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(handler, "handler");
        ensureOpen("register");
        checkLoopThread("register");
        if (fd < 0) {
            throw new IllegalArgumentException("register: negative fd " + fd);
        }
        boolean oneshot = false;
        boolean exclusive = false;
        for (RegistrationOption o : options) {
            oneshot |= o == RegistrationOption.ONESHOT;
            exclusive |= o == RegistrationOption.EXCLUSIVE;
        }
        if (mode == TriggerMode.EDGE) {
            requireNonBlocking(fd, "register");
        }
        int slot = table.allocate();
        Registration r = new Registration(this, fd, slot, table.generation(slot), interest, mode, handler, oneshot,
                exclusive);
        ctlEvent.set(0, r.epollBits(), r.token());
        if (LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_ADD, fd, ctlEvent.address()) != 0) {
            int err = LibC.errno();
            table.release(slot);
            throw new EpollException("epoll_ctl(ADD, fd=" + fd + ", " + interest + ", " + mode + ")", err);
        }
        // The kernel accepted an fd we still had a live registration for: that fd was closed (which removed it
        // from epoll) and its number reused. The old registration can never fire again; end it.
        Registration previous = table.forFd(fd);
        if (previous != null) {
            end(previous, new FdReusedException(fd));
        }
        table.put(r);
        return r;
    }

    void modify(Registration r, Interest newInterest, TriggerMode newMode) throws EpollException {
        checkLoopThread("modify registration");
        if (!r.valid) {
            throw new IllegalStateException("registration for fd " + r.fd + " has ended");
        }
        if (r.exclusive) {
            throw new IllegalStateException("fd " + r.fd + " is registered EXCLUSIVE; the kernel forbids modifying it");
        }
        if (newMode == TriggerMode.EDGE && r.mode != TriggerMode.EDGE) {
            requireNonBlocking(r.fd, "triggerMode(EDGE)");
        }
        Interest oldInterest = r.interest;
        TriggerMode oldMode = r.mode;
        r.interest = newInterest;
        r.mode = newMode;
        ctlEvent.set(0, r.epollBits(), r.token());
        if (LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_MOD, r.fd, ctlEvent.address()) != 0) {
            int err = LibC.errno();
            r.interest = oldInterest;
            r.mode = oldMode;
            throw new EpollException("epoll_ctl(MOD, fd=" + r.fd + ", " + newInterest + ", " + newMode + ")", err);
        }
    }

    void cancel(Registration r, Throwable cause, boolean del) {
        if (!r.valid) {
            return;
        }
        checkLoopThread("cancel");
        if (del && state.get() != CLOSED) {
            // EBADF/ENOENT mean the fd was already closed, which removed it from epoll: nothing left to undo.
            LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_DEL, r.fd, ctlEvent.address());
        }
        end(r, cause);
    }

    private void end(Registration r, Throwable cause) {
        r.valid = false;
        table.remove(r);
        try {
            r.handler.onClosed(r, cause);
        } catch (Throwable t) {
            reportFailure(r, t);
        }
    }

    private void requireNonBlocking(int fd, String op) throws EpollException {
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0) {
            throw new EpollException("fcntl(fd=" + fd + ", F_GETFL)", LibC.errno());
        }
        if ((flags & LibC.O_NONBLOCK) == 0) {
            throw new IllegalArgumentException(op + ": fd " + fd + " is blocking; EDGE needs a non-blocking fd "
                    + "(a handler reading until EAGAIN would block the whole reactor). Set O_NONBLOCK first, "
                    + "e.g. with Reactor.setNonBlocking(fd)");
        }
    }

    /**
     * Sets O_NONBLOCK on {@code fd}.
     *
     * @param fd an open fd
     * @throws EpollException if fcntl fails (EBADF)
     */
    public static void setNonBlocking(int fd) throws EpollException {
        int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
        if (flags < 0) {
            throw new EpollException("fcntl(fd=" + fd + ", F_GETFL)", LibC.errno());
        }
        if ((flags & LibC.O_NONBLOCK) == 0 && LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK) < 0) {
            throw new EpollException("fcntl(fd=" + fd + ", F_SETFL, O_NONBLOCK)", LibC.errno());
        }
    }

    // ---------------------------------------------------------------- the loop

    /**
     * Runs one iteration on the calling thread: waits up to {@code timeout} for events (less if a timer is due or a
     * task is queued, not at all for {@link Duration#ZERO}), dispatches them, fires due timers and runs queued tasks.
     *
     * @param timeout the longest wait; {@code null} waits until an event, timer, task or wake-up
     * @return the number of events dispatched to handlers
     * @throws EpollException         if epoll_wait fails (anything but EINTR)
     * @throws ClosedReactorException if the reactor is closed
     * @throws IllegalStateException  if another thread is running the reactor
     */
    public int poll(Duration timeout) throws EpollException {
        long timeoutNanos = timeout == null ? -1 : timeout.isNegative() ? 0 : saturatedNanos(timeout);
        acquire("poll");
        try {
            return iterate(timeoutNanos);
        } finally {
            release();
        }
    }

    /**
     * Runs the loop on the calling thread until {@link #close()}; then closes the reactor before returning.
     *
     * @throws EpollException         if epoll_wait fails (anything but EINTR)
     * @throws ClosedReactorException if the reactor is already closed
     * @throws IllegalStateException  if another thread is running the reactor
     */
    public void run() throws EpollException {
        acquire("run");
        try {
            while (state.get() == OPEN) {
                iterate(-1);
            }
        } finally {
            release();
        }
    }

    /**
     * Starts a daemon thread, named after the reactor, that calls {@link #run()}.
     *
     * @return the thread
     */
    public Thread start() {
        ensureOpen("start");
        Thread t = new Thread(() -> {
            try {
                run();
            } catch (ClosedReactorException e) {
                // closed before the thread got going: nothing to run
            } catch (Throwable e) {
                LOG.log(System.Logger.Level.ERROR, name + " stopped", e);
                close();
            }
        }, name);
        t.setDaemon(true);
        // Claim the loop for the new thread now, so that from this return on other threads see it as running
        // (registrations from them are refused instead of racing with the loop's first iteration).
        if (!owner.compareAndSet(null, t)) {
            Thread other = owner.get();
            throw new IllegalStateException("start on " + name + ": already running on thread "
                    + (other == null ? "?" : other.getName()));
        }
        loopThread = t;
        t.start();
        return t;
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private void acquire(String op) {
        Thread me = Thread.currentThread();
        if (owner.get() != me && !owner.compareAndSet(null, me)) {
            Thread other = owner.get();
            throw new IllegalStateException(op + " on " + name + ": already running on thread "
                    + (other == null ? "?" : other.getName()));
        }
        loopThread = me;
        if (state.get() != OPEN) {
            release();
            throw new ClosedReactorException(op + ": " + name + " is closed");
        }
    }

    private void release() {
        if (state.get() == CLOSING) {
            doClose();
        }
        loopThread = null;
        owner.set(null);
        // A close() from another thread may have failed to take ownership just before we let go.
        if (state.get() == CLOSING && owner.compareAndSet(null, Thread.currentThread())) {
            try {
                doClose();
            } finally {
                owner.set(null);
            }
        }
    }

    /** One iteration; timeoutNanos -1 means no limit. */
    private int iterate(long timeoutNanos) throws EpollException {
        long waitNanos = timeoutNanos;
        ScheduledTask next = timers.peek();
        long now = 0;
        if (next != null) {
            now = System.nanoTime();
            long untilTimer = Math.max(0, next.deadlineNanos - now);
            if (waitNanos < 0 || untilTimer < waitNanos) {
                waitNanos = untilTimer;
            }
        }
        if (!tasks.isEmpty() || state.get() != OPEN) {
            waitNanos = 0;
        }
        int n;
        if (waitNanos == 0) {
            n = waitOnce(0, false);
        } else {
            nextWakeup.set(waitNanos < 0 ? NO_DEADLINE : (now == 0 ? System.nanoTime() : now) + waitNanos);
            // Re-check after publishing that we are about to sleep: a task queued before the publish saw AWAKE
            // and did not write the eventfd.
            if (!tasks.isEmpty()) {
                waitNanos = 0;
            }
            try {
                n = waitOnce(waitNanos, next != null && waitNanos > 0);
            } finally {
                nextWakeup.lazySet(AWAKE);
            }
        }
        int dispatched = n > 0 ? dispatch(n) : 0;
        if (n == events.capacity() && n < MAX_EVENT_CAPACITY) {
            events.grow(Math.min(MAX_EVENT_CAPACITY, n * 2));
        }
        if (timers.size() > 0) {
            fireTimers();
        }
        runTasks();
        loopIterations++;
        return dispatched;
    }

    private int waitOnce(long waitNanos, boolean precise) throws EpollException {
        epollWaits++;
        int n;
        if (precise && EpollPwait2.AVAILABLE) {
            timespec.putLong(0, waitNanos / 1_000_000_000L);
            timespec.putLong(8, waitNanos % 1_000_000_000L);
            n = EpollPwait2.epoll_pwait2(epfd, events.address(), events.capacity(), timespecAddr, 0L, 0L);
        } else {
            int millis = waitNanos < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, (waitNanos + 999_999) / 1_000_000);
            n = LibC.epoll_wait(epfd, events.address(), events.capacity(), millis);
        }
        if (n < 0) {
            int err = LibC.errno();
            if (err == Errno.EINTR) {
                return 0;
            }
            throw new EpollException("epoll_wait(epfd=" + epfd + ")", err);
        }
        return n;
    }

    private int dispatch(int n) {
        EventBuffer ev = events;
        int dispatched = 0;
        for (int i = 0; i < n; i++) {
            long token = ev.data(i);
            int bits = ev.events(i);
            if (token == WAKEUP_TOKEN) {
                LibC.read(wakeFd, scratch8Addr, 8);
                continue;
            }
            Registration r = table.lookup(token); // per event: a handler may have ended or added registrations
            if (r == null) {
                staleEventsDropped++;
                continue;
            }
            dispatched++;
            try {
                r.handler.onReady(r, Ready.of(bits));
                if (debugEdgeStalls && r.mode == TriggerMode.EDGE && r.valid && (bits & LibC.EPOLLIN) != 0) {
                    checkEdgeStall(r);
                }
            } catch (Throwable t) {
                handlerFailures++;
                reportFailure(r, t);
                cancel(r, t, true);
            }
        }
        eventsDispatched += dispatched;
        return dispatched;
    }

    private void checkEdgeStall(Registration r) {
        scratch8.putInt(0, 0);
        if (LibC.ioctl(r.fd, LibC.FIONREAD, scratch8Addr) == 0) {
            int unread = scratch8.getInt(0);
            if (unread > 0) {
                edgeStallsReported++;
                LOG.log(System.Logger.Level.WARNING, () -> name + ": EDGE handler for fd " + r.fd + " returned with "
                        + unread + " bytes unread; epoll will not report this fd again until more data arrives");
            }
        }
    }

    private void fireTimers() {
        long now = System.nanoTime();
        ScheduledTask t;
        while ((t = timers.peek()) != null && t.deadlineNanos - now <= 0) {
            timers.poll();
            if (t.expire()) {
                timersFired++;
                try {
                    t.task.run();
                } catch (Throwable e) {
                    reportFailure(null, e);
                }
            }
        }
    }

    private void runTasks() {
        for (int i = 0; i < MAX_TASKS_PER_ITERATION; i++) {
            Runnable task = tasks.poll();
            if (task == null) {
                return;
            }
            tasksRun++;
            try {
                task.run();
            } catch (Throwable e) {
                reportFailure(null, e);
            }
        }
    }

    private void reportFailure(Registration r, Throwable t) {
        try {
            errorHandler.accept(r, t);
        } catch (Throwable ignored) {
            // an error handler that throws must not take the loop down either
        }
    }

    private static void logHandlerFailure(Registration r, Throwable t) {
        LOG.log(System.Logger.Level.WARNING, r == null ? "task failed" : "handler for fd " + r.fd + " failed; "
                + "registration cancelled", t);
    }

    // ---------------------------------------------------------------- tasks, timers, wake-ups

    /**
     * Queues {@code task} to run on the reactor's thread, in submission order, and wakes the loop if it is waiting.
     *
     * @param task the task
     * @throws RejectedExecutionException if the reactor is closed
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (state.get() != OPEN) {
            throw new RejectedExecutionException(name + " is closed");
        }
        tasks.add(task);
        if (Thread.currentThread() != loopThread) {
            wakeup();
        }
    }

    /**
     * Runs {@code task} on the reactor's thread after {@code delay}. Timers are exact to the nanosecond in the
     * queue; the wait itself uses epoll_pwait2's nanosecond timeout where the kernel has it, else epoll_wait's
     * milliseconds (rounded up, so never early).
     *
     * @param delay how long to wait; zero or negative runs it on the next iteration
     * @param task  the task
     * @return a handle to cancel it
     * @throws RejectedExecutionException if the reactor is closed
     */
    public Timeout schedule(Duration delay, Runnable task) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(delay, "delay");
        if (state.get() != OPEN) {
            throw new RejectedExecutionException(name + " is closed");
        }
        long deadline = System.nanoTime() + Math.max(0, Math.min(saturatedNanos(delay), Long.MAX_VALUE / 4));
        ScheduledTask t = new ScheduledTask(this, deadline, task);
        if (Thread.currentThread() == loopThread) {
            addTimer(t);
        } else {
            execute(() -> addTimer(t));
        }
        return t;
    }

    private void addTimer(ScheduledTask t) {
        if (t.get() == ScheduledTask.PENDING) {
            t.seq = timerSeq++;
            timers.add(t);
        }
    }

    void timerCancelled(ScheduledTask t) {
        if (Thread.currentThread() == loopThread) {
            timers.remove(t);
        } else if (state.get() == OPEN) {
            try {
                execute(() -> timers.remove(t));
            } catch (RejectedExecutionException closing) {
                // the reactor is closing: its timers are dropped anyway
            }
        }
    }

    /**
     * Wakes the loop if it is blocked in epoll_wait. Skips the eventfd write when the loop is already awake, so
     * calling it often is cheap.
     */
    public void wakeup() {
        if (nextWakeup.getAndSet(AWAKE) != AWAKE) {
            scratchWrite();
        }
    }

    private void scratchWrite() {
        // Any thread may write: the kernel only reads the shared, never-modified 8-byte value.
        if (LibC.write(wakeFd, WAKE_VALUE_ADDR, 8) == 8) {
            wakeupsWritten.incrementAndGet();
        }
    }

    private static final ByteBuffer WAKE_VALUE = NativeMemory.allocate(8).putLong(0, 1L);
    private static final long WAKE_VALUE_ADDR = NativeMemory.address(WAKE_VALUE);

    // ---------------------------------------------------------------- close

    /**
     * Closes the reactor: every still-registered handler gets {@link Handler#onClosed} with a
     * {@link ClosedReactorException}, queued tasks run one last time, pending timers are dropped, and the epoll fd
     * and eventfd are closed. Registered fds stay open: they belong to their owners. Called from another thread
     * while the loop runs, it wakes the loop and waits for it to finish closing. Idempotent.
     */
    @Override
    public void close() {
        if (state.compareAndSet(OPEN, CLOSING)) {
            wakeupForClose();
        }
        if (state.get() == CLOSED) {
            return;
        }
        Thread me = Thread.currentThread();
        if (owner.get() == me) {
            return; // called from a handler, task or timer: the loop closes when this iteration ends
        }
        if (owner.compareAndSet(null, me)) {
            try {
                doClose();
            } finally {
                owner.set(null);
            }
            return;
        }
        try {
            while (!terminated.await(100, TimeUnit.MILLISECONDS)) {
                if (owner.compareAndSet(null, me)) {
                    try {
                        doClose();
                    } finally {
                        owner.set(null);
                    }
                    return;
                }
                wakeupForClose();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void wakeupForClose() {
        nextWakeup.set(AWAKE);
        scratchWrite();
    }

    /** Blocks until the reactor is closed, or the timeout passes. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(saturatedNanos(timeout), TimeUnit.NANOSECONDS);
    }

    private void doClose() {
        if (state.get() == CLOSED) {
            return;
        }
        Thread prev = loopThread;
        loopThread = Thread.currentThread();
        try {
            ClosedReactorException cause = new ClosedReactorException(name + " closed");
            for (Registration r : table.snapshot()) {
                if (r.valid) {
                    end(r, cause);
                }
            }
            timers.clear();
            runTasks();
            state.set(CLOSED);
            Runnable late;
            while ((late = tasks.poll()) != null) {
                try {
                    late.run();
                } catch (Throwable e) {
                    reportFailure(null, e);
                }
            }
            LibC.close(wakeFd);
            LibC.close(epfd);
        } finally {
            loopThread = prev;
            terminated.countDown();
        }
    }

    // ---------------------------------------------------------------- queries

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return state.get() != OPEN;
    }

    /** Whether a thread is running the loop now ({@link #run()}, {@link #poll}, or the thread {@link #start()} made). */
    public boolean isRunning() {
        return owner.get() != null;
    }

    /** Whether the calling thread is the one running this reactor now. */
    public boolean inEventLoop() {
        return Thread.currentThread() == loopThread;
    }

    /** The reactor's name. */
    public String name() {
        return name;
    }

    /** A snapshot of the counters. Safe from any thread; values read off the loop thread may lag slightly. */
    public ReactorStats stats() {
        return new ReactorStats(loopIterations, epollWaits, eventsDispatched, staleEventsDropped,
                wakeupsWritten.get(), tasksRun, timersFired, handlerFailures, edgeStallsReported,
                table.size(), events.capacity());
    }

    private void ensureOpen(String op) {
        if (state.get() != OPEN) {
            throw new ClosedReactorException(op + ": " + name + " is closed");
        }
    }

    private void checkLoopThread(String op) {
        Thread t = loopThread;
        if (t != null && t != Thread.currentThread()) {
            throw new IllegalStateException(op + " must run on " + name + "'s thread (" + t.getName()
                    + "); use reactor.execute(...) from other threads");
        }
    }

    @Override
    public String toString() {
        return "Reactor[" + name + ", epfd=" + epfd + ", registrations=" + table.size()
                + (isClosed() ? ", closed" : "") + "]";
    }
}
