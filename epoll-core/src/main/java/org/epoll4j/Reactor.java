package org.epoll4j;

import org.epoll4j.internal.Durations;
import org.epoll4j.internal.EpollPwait2;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.EventBuffer;
import org.epoll4j.internal.IoFigures;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.NativePlatform;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * One epoll instance driven by one thread: registrations of any pollable fd, tasks, timers and wake-ups.
 *
 * <p>Drive it either with {@link #run()} (loops until {@link #close()}) or, when embedding it in a loop of your
 * own, with {@link #poll(Duration)}, one iteration on the calling thread. One iteration waits in epoll_wait (no
 * longer than the next timer or pending task allows), dispatches the events, fires due timers and runs queued
 * tasks. {@link #execute}, {@link #schedule}, {@link #wakeup()} and {@link #close()} are safe from any thread, and
 * so are the methods of {@link Registration} that change or cancel it; {@link #register} belongs to the reactor's
 * thread, or to any one thread while no thread is running the reactor.
 *
 * <pre>{@code
 * try (Reactor reactor = Reactor.open()) {
 *     reactor.register(fd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> handle(reg.fd()));
 *     reactor.run();          // until reactor.close() from a handler, a task or another thread
 * }
 * }</pre>
 */
public final class Reactor implements Executor, AutoCloseable {
    static final System.Logger LOG = System.getLogger(Reactor.class.getName());
    /** The loop re-reads the TRACE level at least this often (and before each sleep in epoll_wait). */
    private static final int LOG_LEVEL_REFRESH_MASK = 1023;
    private static final VarHandle BUSY_SINCE;

    static {
        try {
            BUSY_SINCE = MethodHandles.lookup().findVarHandle(Reactor.class, "busySince", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private static final long WAKEUP_TOKEN = -1L;
    private static final int MAX_TASKS_PER_ITERATION = 1024;
    private static final int MAX_EVENT_CAPACITY = 1 << 16;
    /** epoll_ctl from threads other than the loop's: the loop's own {@link #ctlEvent} is not theirs to write. */
    private static final ThreadLocal<EventBuffer> OFF_LOOP_CTL = ThreadLocal.withInitial(() -> new EventBuffer(1));

    private final String name;
    private final int epfd;
    private final EventBuffer events;
    private final EventBuffer ctlEvent = new EventBuffer(1);
    private final ByteBuffer scratch8 = NativeMemory.allocate(8);
    private final long scratch8Addr = NativeMemory.address(scratch8);
    private final ByteBuffer timespec = NativeMemory.allocate(16);
    private final long timespecAddr = NativeMemory.address(timespec);
    private final boolean debugEdgeStalls;
    private final BiConsumer<Registration, Throwable> errorHandler;
    private final Consumer<Throwable> taskFailure = t -> reportFailure(null, t);
    private final long slowDispatchNanos;
    private final TaskQueue.Timing taskTiming = this::taskTimed;
    /** Blocked-loop watchdog on: the loop stamps {@link #busySince}. */
    private final boolean watched;
    private final ReactorJmx jmx;
    /** TRACE for each dispatched event; read by the loop only, refreshed off the per-event path. */
    private boolean traceEvents;
    private int iterationsSinceLevelRead;
    /** nanoTime when the current iteration started, 0 while asleep in epoll_wait or not running (opaque). */
    @SuppressWarnings("unused") // through BUSY_SINCE
    private long busySince;
    /** {@link #loopNanos()}'s reading for this phase of the iteration; 0 until taken. Loop thread only. */
    private long loopNanos;

    private final RegistrationTable table = new RegistrationTable();
    private final LoopOwner life;
    private final WakeupSignal wakeups;
    private final TaskQueue tasks;
    private final TimerQueue timers = new TimerQueue();
    /** The events of the batch whose handlers run now ({@link #batchEvents()}); 0 outside that phase. */
    private int batchEvents;
    /** What {@link #afterBatch} holds for the end of the current phase. Loop thread only. */
    private final AfterBatchQueue batchEnd = new AfterBatchQueue();
    private long timerSeq;
    private final ReactorCounters counters = new ReactorCounters();

    private Reactor(Builder b) throws EpollException {
        NativePlatform.requireSupported();
        EventBuffer.verifyLayout();
        this.name = b.name;
        this.debugEdgeStalls = b.debugEdgeStalls;
        this.errorHandler = b.errorHandler != null ? b.errorHandler : Reactor::logHandlerFailure;
        this.events = new EventBuffer(b.eventCapacity);
        counters.eventCapacity(events.capacity());
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
        if (b.busyPoll != null) {
            try {
                if (!BusyPoll.apply(ep, b.busyPoll)) {
                    LOG.log(System.Logger.Level.DEBUG, "{0}: this kernel has no EPIOCSPARAMS; busy polling is off",
                            b.name);
                }
            } catch (EpollException e) {
                LibC.close(wfd);
                LibC.close(ep);
                throw e;
            }
        }
        this.epfd = ep;
        this.wakeups = new WakeupSignal(wfd);
        this.life = new LoopOwner(this, name, this::doClose);
        this.tasks = new TaskQueue(life);
        this.slowDispatchNanos = b.slowDispatchThreshold.toNanos();
        this.traceEvents = LOG.isLoggable(System.Logger.Level.TRACE);
        this.watched = b.blockedLoopThreshold != null;
        ReactorEvents.add(this);
        if (watched) {
            LoopWatchdog.watch(this, b.blockedLoopThreshold.toNanos());
        }
        ReactorJmx bean = null;
        if (b.jmx) {
            try {
                bean = ReactorJmx.register(this);
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }
        this.jmx = bean;
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
        private Duration slowDispatchThreshold = Duration.ofMillis(10);
        private Duration blockedLoopThreshold;
        private boolean jmx;
        private BusyPoll busyPoll;

        private Builder() {
        }

        /**
         * Busy-polls the network card's queues while the loop waits ({@code EPIOCSPARAMS}, Linux 6.9+); see
         * {@link BusyPoll} for when it helps. Where the kernel lacks it, the reactor is built without it and
         * {@link Reactor#busyPoll()} is empty.
         *
         * @param params the settings
         * @return this builder
         */
        public Builder busyPoll(BusyPoll params) {
            this.busyPoll = Objects.requireNonNull(params, "busyPoll");
            return this;
        }

        /**
         * How long a handler call, task or timer may run before a JFR recording that enables
         * {@code org.epoll4j.SlowDispatch} gets an event for it (default 10 ms). The loop reads the clock around
         * each call only while such a recording runs.
         *
         * @param threshold zero or more
         * @return this builder
         */
        public Builder slowDispatchThreshold(Duration threshold) {
            Objects.requireNonNull(threshold, "slowDispatchThreshold");
            if (threshold.isNegative()) {
                throw new IllegalArgumentException("slowDispatchThreshold must not be negative: " + threshold);
            }
            this.slowDispatchThreshold = threshold;
            return this;
        }

        /**
         * Turns the blocked-loop watchdog on (default: off): when the loop has not come back to epoll_wait within
         * {@code threshold}, a WARNING with the loop thread's stack is logged (once per stall), and a JFR
         * {@code org.epoll4j.BlockedLoop} event is recorded. One daemon thread, {@code epoll4j-watchdog}, watches
         * every such reactor in the process; it checks every quarter of the smallest threshold.
         *
         * @param threshold at least 1 ms; {@code null} turns the watchdog off
         * @return this builder
         */
        public Builder blockedLoopThreshold(Duration threshold) {
            if (threshold != null && threshold.compareTo(Duration.ofMillis(1)) < 0) {
                throw new IllegalArgumentException("blockedLoopThreshold must be at least 1 ms: " + threshold);
            }
            this.blockedLoopThreshold = threshold;
            return this;
        }

        /**
         * Registers the reactor's statistics as a {@link ReactorMXBean} named
         * {@code org.epoll4j:type=Reactor,name=NAME} on the platform MBean server (default: off), unregistered when
         * the reactor closes. Each reactor registered this way needs a unique name: {@link #build()} throws
         * {@link IllegalStateException} otherwise.
         *
         * @param enabled whether to register
         * @return this builder
         */
        public Builder jmx(boolean enabled) {
            this.jmx = enabled;
            return this;
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
     * <p>If the reactor still holds a registration for this fd number (its fd was closed without
     * {@link Registration#cancel()}, and the number has been reused), that registration ends first: its handler's
     * {@link Handler#onClosed} gets a {@link FdReusedException}, telling it the number is no longer its own.
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
        life.checkLoopThread("register");
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
        Registration previous = table.forFd(fd);
        if (previous == null) {
            add(r);
        } else {
            // The kernel accepting an fd we still have a live registration for means that fd was closed (which
            // removed it from epoll) and its number reused: the old registration can never fire again. Hold its
            // lock from the ADD until it is marked ended, so that no other thread's rearm of the old registration
            // can overwrite the new one's epoll entry (same fd number, stale token) in between.
            Throwable cause;
            synchronized (previous.ctlLock) {
                add(r);
                cause = previous.end(new FdReusedException(fd));
            }
            retire(previous, cause);
        }
        table.put(r);
        counters.registrations(table.size());
        return r;
    }

    private void add(Registration r) throws EpollException {
        ctlEvent.set(0, r.epollBits(), r.token());
        counters.epollCtl();
        if (LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_ADD, r.fd, ctlEvent.address()) != 0) {
            int err = LibC.errno();
            table.release(r.slot);
            throw new EpollException("epoll_ctl(ADD, fd=" + r.fd + ", " + r.interest + ", " + r.mode + ")", err);
        }
    }

    /** epoll_ctl MOD; any thread. */
    void modify(Registration r, Interest newInterest, TriggerMode newMode) throws EpollException {
        if (r.exclusive) {
            throw new IllegalStateException("fd " + r.fd + " is registered EXCLUSIVE; the kernel forbids modifying it");
        }
        if (newMode == TriggerMode.EDGE && r.mode != TriggerMode.EDGE) {
            requireNonBlocking(r.fd, "triggerMode(EDGE)");
        }
        EventBuffer ev = life.inLoop() ? ctlEvent : OFF_LOOP_CTL.get();
        synchronized (r.ctlLock) {
            if (!r.isLive()) {
                throw new IllegalStateException("registration for fd " + r.fd + " has ended");
            }
            ev.set(0, r.epollBits(newInterest, newMode), r.token());
            counters.epollCtl();
            if (LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_MOD, r.fd, ev.address()) != 0) {
                throw new EpollException("epoll_ctl(MOD, fd=" + r.fd + ", " + newInterest + ", " + newMode + ")",
                        LibC.errno());
            }
            r.interest = newInterest;
            r.mode = newMode;
        }
    }

    /**
     * {@link Registration#cancel()}: on the loop thread (or while no thread runs the loop) it ends the registration
     * now; from another thread it takes the fd out of epoll now and leaves the rest to the loop.
     */
    void cancel(Registration r) {
        if (!r.isLive()) {
            return;
        }
        Thread loop = life.loopThread();
        if (loop == null || loop == Thread.currentThread()) {
            end(r, null, true);
            return;
        }
        synchronized (r.ctlLock) {
            if (!r.isLive()) {
                return;
            }
            // EBADF/ENOENT mean the fd was already closed, which removed it from epoll: nothing left to undo.
            counters.epollCtl();
            LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_DEL, r.fd, OFF_LOOP_CTL.get().address());
            r.cancelling();
        }
        // If the reactor is closing, the task is refused and close ends the registration (still in the table).
        if (tasks.offer(() -> end(r, null, false))) {
            wakeups.wakeup();
        }
    }

    /** Ends a registration on the loop thread; {@code del}: take it out of epoll first. Once per registration. */
    private void end(Registration r, Throwable cause, boolean del) {
        Throwable told;
        synchronized (r.ctlLock) {
            if (r.hasEnded()) {
                return;
            }
            if (del && r.isLive()) {
                // EBADF/ENOENT mean the fd was already closed, which removed it from epoll: nothing left to undo.
                counters.epollCtl();
                LibC.epoll_ctl(epfd, LibC.EPOLL_CTL_DEL, r.fd, ctlEvent.address());
            }
            told = r.end(cause);
        }
        retire(r, told);
    }

    /** Forgets an ended registration and tells its handler. */
    private void retire(Registration r, Throwable cause) {
        table.remove(r);
        counters.registrations(table.size());
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
     * task is queued, not at all for {@link Duration#ZERO}, nor after a {@link #wakeup()}), dispatches them, fires
     * due timers and runs queued tasks.
     *
     * @param timeout the longest wait; {@code null} waits until an event, timer, task or wake-up
     * @return the number of events dispatched to handlers
     * @throws EpollException         if epoll_wait fails (anything but EINTR)
     * @throws ClosedReactorException if the reactor is closed
     * @throws IllegalStateException  if another thread is running the reactor, or if called from a handler, task or
     *                                timer of this reactor (re-entrant iterations are refused)
     */
    public int poll(Duration timeout) throws EpollException {
        long timeoutNanos = timeout == null ? -1 : timeout.isNegative() ? 0 : Durations.saturatedNanos(timeout);
        life.enter("poll");
        try {
            return iterate(timeoutNanos);
        } finally {
            idle();
            life.exit();
        }
    }

    /**
     * Runs the loop on the calling thread until {@link #close()}; then closes the reactor before returning.
     *
     * @throws EpollException         if epoll_wait fails (anything but EINTR)
     * @throws ClosedReactorException if the reactor is already closed
     * @throws IllegalStateException  if another thread is running the reactor, or if called from a handler, task or
     *                                timer of this reactor
     */
    public void run() throws EpollException {
        life.enter("run");
        try {
            while (life.isOpen()) {
                iterate(-1);
            }
        } finally {
            idle();
            life.exit();
        }
    }

    /**
     * Starts a daemon thread, named after the reactor, that calls {@link #run()}.
     *
     * @return the thread
     * @throws ClosedReactorException if the reactor is closed
     * @throws IllegalStateException  if a thread is running the reactor
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
        life.claimFor(t, "start");
        t.start();
        return t;
    }

    /** One iteration; timeoutNanos -1 means no limit. */
    private int iterate(long timeoutNanos) throws EpollException {
        if (watched) {
            busy();
        }
        long waitNanos = timeoutNanos;
        ScheduledTask next = timers.peek();
        if (next != null) {
            long untilTimer = Math.max(0, next.deadlineNanos - System.nanoTime());
            if (waitNanos < 0 || untilTimer < waitNanos) {
                waitNanos = untilTimer;
            }
        }
        if (!tasks.isEmpty() || !batchEnd.isEmpty() || !life.isOpen()) {
            waitNanos = 0;
        }
        if (waitNanos != 0 || ++iterationsSinceLevelRead > LOG_LEVEL_REFRESH_MASK) {
            // Off the per-event path: a level changed at run time (JUL config, jconsole) shows within an iteration
            // that sleeps, or within 1024 busy ones.
            iterationsSinceLevelRead = 0;
            traceEvents = LOG.isLoggable(System.Logger.Level.TRACE);
        }
        int n;
        if (waitNanos != 0 && wakeups.prepareToSleep()) {
            // From here a wakeup() writes the eventfd. A task queued before this point saw us awake: its execute()
            // left the wake-up pending and prepareToSleep() refused to sleep.
            if (watched) {
                idle();
            }
            try {
                n = waitOnce(waitNanos, next != null && waitNanos > 0);
            } finally {
                wakeups.awake();
                if (watched) {
                    busy();
                }
            }
        } else {
            wakeups.consume();
            n = waitOnce(0, false);
        }
        loopNanos = 0;
        int dispatched;
        batchEvents = n;
        try {
            dispatched = n > 0 ? dispatch(n) : 0;
        } finally {
            batchEvents = 0;
        }
        runAfterBatch();
        if (n == events.capacity() && n < MAX_EVENT_CAPACITY) {
            events.grow(Math.min(MAX_EVENT_CAPACITY, n * 2));
            counters.eventCapacity(events.capacity());
        }
        if (timers.size() > 0) {
            loopNanos = 0;
            fireTimers();
            runAfterBatch();
        }
        loopNanos = 0;
        counters.tasksRun(tasks.runSome(MAX_TASKS_PER_ITERATION, taskFailure,
                ReactorEvents.timingEnabled() ? taskTiming : null));
        runAfterBatch();
        counters.iteration();
        return dispatched;
    }

    /** The end of a phase: what its handlers, timers or tasks gave {@link #afterBatch}. */
    private void runAfterBatch() {
        if (!batchEnd.isEmpty()) {
            batchEnd.run(taskFailure);
        }
    }

    private int waitOnce(long waitNanos, boolean precise) throws EpollException {
        counters.epollWait();
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

    /** Marks the start of busy time for the watchdog (a non-zero stamp). */
    private void busy() {
        long now = System.nanoTime();
        BUSY_SINCE.setOpaque(this, now == 0 ? 1 : now);
    }

    /** Asleep in epoll_wait, or not running: nothing for the watchdog to report. */
    private void idle() {
        if (watched) {
            BUSY_SINCE.setOpaque(this, 0L);
        }
    }

    /** For the watchdog: when the current iteration's busy time started, or 0. Any thread. */
    long busySince() {
        return (long) BUSY_SINCE.getOpaque(this);
    }

    /** For the watchdog: the thread running the loop now, or {@code null}. */
    Thread loopThread() {
        return life.loopThread();
    }

    private int dispatch(int n) {
        EventBuffer ev = events;
        int dispatched = 0;
        int stale = 0;
        boolean timed = ReactorEvents.timingEnabled();
        boolean trace = traceEvents;
        for (int i = 0; i < n; i++) {
            long token = ev.data(i);
            int bits = ev.events(i);
            if (token == WAKEUP_TOKEN) {
                LibC.read(wakeups.fd(), scratch8Addr, 8);
                continue;
            }
            // Per event: a handler may have ended or added registrations; another thread may have cancelled one.
            Registration r = table.lookup(token);
            if (r == null || !r.isLive()) {
                stale++;
                continue;
            }
            dispatched++;
            if (trace) {
                trace(r, bits);
            }
            long start = timed ? System.nanoTime() : 0L;
            try {
                r.handler.onReady(r, Ready.of(bits));
                if (timed) {
                    timed("handler", r.fd, r.handler, start);
                }
                if (debugEdgeStalls && r.mode == TriggerMode.EDGE && r.isLive()
                        && (bits & LibC.EPOLLIN) != 0) {
                    checkEdgeStall(r);
                }
            } catch (Throwable t) {
                counters.handlerFailure();
                reportFailure(r, t);
                end(r, t, true);
            }
        }
        counters.dispatched(dispatched, stale);
        return dispatched;
    }

    private void trace(Registration r, int bits) {
        LOG.log(System.Logger.Level.TRACE, () -> name + ": fd " + r.fd + " " + Ready.of(bits) + " (events 0x"
                + Integer.toHexString(bits) + "), " + r.interest + ", " + r.mode + (r.oneshot ? ", ONESHOT" : ""));
    }

    /** A call timed for JFR's SlowDispatch event ({@code start} from System.nanoTime before it). */
    private void timed(String kind, int fd, Object what, long start) {
        long elapsed = System.nanoTime() - start;
        if (elapsed >= slowDispatchNanos) {
            ReactorEvents.slowDispatch(name, kind, fd, what.getClass(), elapsed);
        }
    }

    private void taskTimed(Runnable task, long start) {
        timed("task", -1, task, start);
    }

    private void checkEdgeStall(Registration r) {
        scratch8.putInt(0, 0);
        if (LibC.ioctl(r.fd, LibC.FIONREAD, scratch8Addr) == 0) {
            int unread = scratch8.getInt(0);
            if (unread > 0) {
                counters.edgeStall();
                ReactorEvents.edgeStall(name, r, unread);
                LOG.log(System.Logger.Level.WARNING, () -> name + ": EDGE handler for fd " + r.fd + " returned with "
                        + unread + " bytes unread; epoll will not report this fd again until more data arrives");
            }
        }
    }

    private void fireTimers() {
        long now = System.nanoTime();
        ScheduledTask t;
        boolean timed = ReactorEvents.timingEnabled();
        while ((t = timers.peek()) != null && t.deadlineNanos - now <= 0) {
            timers.poll();
            if (t.expire()) {
                counters.timerFired();
                try {
                    long start = timed ? System.nanoTime() : 0L;
                    t.task.run();
                    if (timed) {
                        timed("timer", -1, t.task, start);
                    }
                } catch (Throwable e) {
                    reportFailure(null, e);
                }
            }
        }
    }

    private void reportFailure(Registration r, Throwable t) {
        try {
            ReactorEvents.handlerFailure(name, r, t);
        } catch (Throwable ignored) {
            // observation must never cost the loop
        }
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
     * A task this accepts is guaranteed to run: on the loop, or in the final drain of {@link #close()}.
     *
     * @param task the task
     * @throws RejectedExecutionException if the reactor is closing or closed
     */
    @Override
    public void execute(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (!tasks.offer(task)) {
            throw new RejectedExecutionException(name + " is closed");
        }
        if (!life.inLoop()) {
            wakeups.wakeup();
        }
    }

    /**
     * Runs {@code task} on the loop's thread once the current phase of this iteration is done: after the handlers of
     * every event of this batch (what one epoll_wait returned), or after the timers due, or after the tasks run,
     * whichever phase called it; before the loop waits again. For work that many handlers of one batch would each do
     * and that is cheaper done once at its end, like libuv's check handles: {@link
     * org.epoll4j.net.ConnectionConfig#withBatchedWrites} holds each connection's writes until then and sends them
     * in one call. A task it schedules runs at the end of the next phase; one that throws goes to the error handler
     * and the others still run; a close runs what the ending handlers schedule. Allocates nothing once its array
     * has grown to the most tasks one phase holds.
     *
     * @param task what to run
     * @throws IllegalStateException if the calling thread is not running this reactor's loop (use
     *                               {@link #execute} there)
     */
    public void afterBatch(Runnable task) {
        Objects.requireNonNull(task, "task");
        if (!life.inLoop()) {
            throw new IllegalStateException("afterBatch called on thread " + Thread.currentThread().getName()
                    + ", not on " + name + "'s loop: only its own handlers, timers and tasks may; use execute()");
        }
        batchEnd.add(task);
    }

    /**
     * How many events the batch whose handlers run now carries: what this iteration's epoll_wait returned (the
     * loop's own wake-up included) while their handlers run; 0 while timers or tasks run, and on other threads. Tells
     * a saturated loop (many ready sockets per wait, its peers busy too) from a quiet one: batched writes ({@link
     * org.epoll4j.net.ConnectionConfig#withBatchedWrites}) go out at once in a batch of 32 events or more.
     *
     * @return the current batch's size, or 0
     */
    public int batchEvents() {
        return life.inLoop() ? batchEvents : 0;
    }

    /**
     * Runs {@code task} on the reactor's thread after {@code delay}. Timers are exact to the nanosecond in the
     * queue; the wait itself uses epoll_pwait2's nanosecond timeout where the kernel has it, else epoll_wait's
     * milliseconds (rounded up, so never early). If the reactor closes first, the timeout ends cancelled.
     *
     * @param delay how long to wait; zero or negative runs it on the next iteration
     * @param task  the task
     * @return a handle to cancel it
     * @throws RejectedExecutionException if the reactor is closing or closed
     */
    public Timeout schedule(Duration delay, Runnable task) {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(delay, "delay");
        if (!life.isOpen()) {
            throw new RejectedExecutionException(name + " is closed");
        }
        long deadline = System.nanoTime() + Math.max(0, Durations.saturatedNanos(delay));
        ScheduledTask t = new ScheduledTask(this, deadline, task);
        if (life.inLoop()) {
            addTimer(t);
        } else {
            execute(() -> addTimer(t));
        }
        return t;
    }

    private void addTimer(ScheduledTask t) {
        if (!life.isOpen()) {
            t.cancelOnClose(); // a hand-off that reached the loop only in close's final drain
        } else if (t.isPending()) {
            t.seq = timerSeq++;
            timers.add(t);
        }
    }

    void timerCancelled(ScheduledTask t) {
        if (life.inLoop()) {
            timers.remove(t);
        } else {
            // No wake-up: a cancelled timer cannot fire, so the loop may drop it whenever it next runs tasks.
            tasks.offer(() -> timers.remove(t));
        }
    }

    /**
     * Makes the loop's current wait return, or, if it is not waiting, its next wait return at once (as
     * {@link java.nio.channels.Selector#wakeup()} does); several wake-ups before one wait count as one. Writes the
     * eventfd only when the loop is asleep, so calling it often is cheap. Safe from any thread.
     */
    public void wakeup() {
        wakeups.wakeup();
    }

    // ---------------------------------------------------------------- close

    /**
     * Closes the reactor: every still-registered handler gets {@link Handler#onClosed} with a
     * {@link ClosedReactorException} (or {@code null} if it was cancelled from another thread and not yet told),
     * pending timers end cancelled, queued tasks run one last time, and the epoll fd and eventfd are closed.
     * Registered fds stay open: they belong to their owners. While no thread runs the loop, the close happens on
     * the calling thread. Called from a plain thread while another thread runs the loop, it wakes the loop and
     * waits for it to finish closing.
     *
     * <p><b>On a loop thread it never waits.</b> From this reactor's own handler, task or timer, the loop closes
     * when the current iteration ends; from another reactor's thread (any thread for which {@link #current()} is
     * not null) it only requests the close and returns, because two loops waiting for each other would never
     * return. Chain work on {@link #terminationFuture()} to act once the close is done. Idempotent.
     */
    @Override
    public void close() {
        if (life.requestClose()) {
            wakeups.wakeup();
        }
        if (life.isTerminated() || life.ownedByCurrentThread()) {
            return;
        }
        if (life.closeIfUnowned()) {
            return;
        }
        if (current() != null) {
            wakeups.write(); // requested only: a loop thread must not wait for another loop
            return;
        }
        life.awaitClose(wakeups::write);
    }

    /**
     * Blocks until the reactor is closed, or the timeout passes.
     *
     * @param timeout the longest wait
     * @return whether the reactor is closed
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return life.awaitTermination(Durations.saturatedNanos(timeout));
    }

    /**
     * Completes once the reactor is closed: every handler was told, the final tasks ran, and its epoll fd is closed
     * (the thread that ran the loop may still be returning). Dependent actions run on the thread that performed the
     * close, or on the caller's if it is done already. Waiting on it from one of a reactor's own threads would
     * block that loop: chain actions instead.
     *
     * @return a future that completes normally, never exceptionally (completing it yourself has no effect on the
     *         reactor)
     */
    public CompletableFuture<Void> terminationFuture() {
        return life.terminationFuture().copy();
    }

    /** The close itself, run once by the thread owning the loop. */
    private void doClose() {
        if (!life.closePending()) {
            return;
        }
        try {
            ClosedReactorException cause = new ClosedReactorException(name + " closed");
            for (Registration r : table.snapshot()) {
                end(r, cause, false);
            }
            batchEnd.run(taskFailure); // what the ending handlers scheduled (their own held bytes went as they ended)
            timers.cancelAll();
            life.markClosed();
            counters.tasksRun(tasks.runAll(taskFailure));
            for (int pass = 0; pass < 16 && !batchEnd.isEmpty(); pass++) {
                batchEnd.run(taskFailure); // what the final tasks scheduled; bounded: one may keep rescheduling
            }
            batchEnd.clear();
            LibC.close(wakeups.fd());
            LibC.close(epfd);
        } finally {
            forget();
            life.terminated();
        }
    }

    /** Takes the reactor out of the JFR registry, the watchdog and JMX. */
    private void forget() {
        ReactorEvents.remove(this);
        if (watched) {
            LoopWatchdog.unwatch(this);
        }
        if (jmx != null) {
            jmx.unregister();
        }
    }

    // ---------------------------------------------------------------- queries

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return !life.isOpen();
    }

    /** Whether a thread is running the loop now ({@link #run()}, {@link #poll}, or the thread {@link #start()} made). */
    public boolean isRunning() {
        return life.isOwned();
    }

    /**
     * The reactor whose loop the calling thread is running now ({@link #run()}, {@link #poll}, a started thread, or
     * a close that runs the handlers' {@code onClosed}), or {@code null}. Lets code that may run on any reactor (a
     * library's callback, a handler shared by a group) find its own, and lets blocking helpers refuse to wait on a
     * reactor thread.
     *
     * @return the current reactor, or {@code null}
     */
    public static Reactor current() {
        return LoopOwner.CURRENT.get();
    }

    /** Whether the calling thread is the one running this reactor now. */
    public boolean inEventLoop() {
        return life.inLoop();
    }

    /**
     * The loop's clock, like libuv's {@code uv_now}: {@link System#nanoTime()} read at most once per phase of a loop
     * iteration (its events, its timers, its tasks) and reused by every later call in that phase, so code that
     * stamps each read or write (idle timeouts do) pays one clock read per batch of events instead of one per call.
     * The reading is older than the true time by at most how long the phase has run so far; use it for timeouts
     * measured in milliseconds and more, not to time code. On any other thread than the loop's it is
     * {@code System.nanoTime()}.
     *
     * @return a {@code System.nanoTime()} value, never 0
     */
    public long loopNanos() {
        if (!life.inLoop()) {
            return System.nanoTime();
        }
        long t = loopNanos;
        if (t == 0) {
            t = System.nanoTime();
            loopNanos = t = t == 0 ? 1 : t;
        }
        return t;
    }

    /** The reactor's name. */
    public String name() {
        return name;
    }

    /**
     * What the kernel holds for this reactor's busy polling ({@code EPIOCGPARAMS}).
     *
     * @return the settings, zero when never set; empty where the kernel lacks the ioctl (before Linux 6.9)
     * @throws EpollException if the ioctl fails otherwise
     */
    public Optional<BusyPoll> busyPoll() throws EpollException {
        ensureOpen("busyPoll");
        return BusyPoll.read(epfd);
    }

    /**
     * A snapshot of the counters. Safe from any thread: each value is whole and never goes back, but the values are
     * read one after another while the loop runs, not as one atomic cut. The connection figures
     * ({@link ReactorStats#openConnections()} ...) are summed over the reactor's open connections when asked (so a
     * snapshot costs a walk over them); taken on the loop thread they are exact, from another thread each
     * connection's values are recent ones, and a connection closing meanwhile may be counted twice (as open and in the
     * closed totals) in that one snapshot.
     */
    public ReactorStats stats() {
        IoFigures io = new IoFigures();
        IoFigures.collect(this, io);
        return counters.snapshot(wakeups.written(), io, scratch8.capacity() + timespec.capacity());
    }

    /** {@link #stats()} without the connection layer's figures (zero there): no walk over the connections. */
    ReactorStats loopStats() {
        return counters.snapshot(wakeups.written(), new IoFigures(), scratch8.capacity() + timespec.capacity());
    }

    private void ensureOpen(String op) {
        if (!life.isOpen()) {
            throw new ClosedReactorException(op + ": " + name + " is closed");
        }
    }

    @Override
    public String toString() {
        return "Reactor[" + name + ", epfd=" + epfd + ", registrations=" + loopStats().registrations()
                + ", binding=" + LibC.binding() + (isClosed() ? ", closed" : "") + "]";
    }
}
