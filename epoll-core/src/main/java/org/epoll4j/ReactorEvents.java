package org.epoll4j;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.StackTrace;
import jdk.jfr.Timespan;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The reactor's JDK Flight Recorder events, and the weak registry of live reactors that the periodic statistics
 * event reads.
 *
 * <p>Cost when nobody records: the loop asks {@link #timingEnabled()} once per iteration (a static load and a field
 * test on a shared probe event), and the rare events (failure, stall) are built only when they happen. Hooking into
 * JFR itself ({@link FlightRecorder#addListener}) happens once per process, with the first reactor; the periodic
 * event is registered only when a recording starts, so a process that never records never pays for it.
 */
final class ReactorEvents {
    private static final System.Logger LOG = System.getLogger(Reactor.class.getName());
    /** Live reactors, weakly: a reactor dropped without close() must not be kept alive by observation. */
    private static final Map<Reactor, Boolean> LIVE = Collections.synchronizedMap(new WeakHashMap<>());
    private static final boolean AVAILABLE = hook();
    /** Never committed: only asked {@code isEnabled()}, which reads the event type's current setting. */
    private static final SlowDispatch SLOW_PROBE = AVAILABLE ? new SlowDispatch() : null;

    private ReactorEvents() {
    }

    private static boolean hook() {
        try {
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recorderInitialized(FlightRecorder recorder) {
                    for (Class<? extends Event> c : List.of(SlowDispatch.class, HandlerFailure.class, EdgeStall.class,
                            BlockedLoop.class)) {
                        FlightRecorder.register(c);
                    }
                    FlightRecorder.addPeriodicEvent(Statistics.class, ReactorEvents::emitStatistics);
                }
            });
            return true;
        } catch (Throwable t) { // no jdk.jfr in this runtime (a jlink image without it), or JFR disabled
            LOG.log(System.Logger.Level.DEBUG, "JFR events unavailable", t);
            return false;
        }
    }

    static void add(Reactor r) {
        LIVE.put(r, Boolean.TRUE);
    }

    static void remove(Reactor r) {
        LIVE.remove(r);
    }

    static List<Reactor> live() {
        synchronized (LIVE) {
            return new ArrayList<>(LIVE.keySet());
        }
    }

    /** Whether a recording wants {@link SlowDispatch}: only then does the loop read the clock around each call. */
    static boolean timingEnabled() {
        return AVAILABLE && SLOW_PROBE.isEnabled();
    }

    private static void emitStatistics() {
        for (Reactor r : live()) {
            if (r.isClosed()) {
                continue;
            }
            ReactorStats s = r.stats();
            Statistics e = new Statistics();
            e.reactor = r.name();
            e.loopIterations = s.loopIterations();
            e.epollWaits = s.epollWaits();
            e.eventsDispatched = s.eventsDispatched();
            e.staleEventsDropped = s.staleEventsDropped();
            e.wakeupsWritten = s.wakeupsWritten();
            e.tasksRun = s.tasksRun();
            e.timersFired = s.timersFired();
            e.handlerFailures = s.handlerFailures();
            e.edgeStallsReported = s.edgeStallsReported();
            e.registrations = s.registrations();
            e.eventCapacity = s.eventCapacity();
            e.epollCtls = s.epollCtls();
            e.openConnections = s.openConnections();
            e.pausedConnections = s.pausedConnections();
            e.queuedBytes = s.queuedBytes();
            e.bytesRead = s.bytesRead();
            e.bytesWritten = s.bytesWritten();
            e.directMemoryBytes = s.directMemoryBytes();
            e.commit();
        }
    }

    static void slowDispatch(String reactor, String kind, int fd, Class<?> handler, long nanos) {
        SlowDispatch e = new SlowDispatch();
        e.reactor = reactor;
        e.kind = kind;
        e.fd = fd;
        e.handlerClass = handler;
        e.elapsed = nanos;
        e.commit();
    }

    static void handlerFailure(String reactor, Registration r, Throwable t) {
        if (!AVAILABLE) {
            return;
        }
        HandlerFailure e = new HandlerFailure();
        if (e.isEnabled()) {
            e.reactor = reactor;
            e.fd = r == null ? -1 : r.fd;
            e.handlerClass = r == null ? null : r.handler.getClass();
            e.exceptionClass = t.getClass();
            e.message = t.getMessage();
            e.commit();
        }
    }

    static void edgeStall(String reactor, Registration r, int unread) {
        if (!AVAILABLE) {
            return;
        }
        EdgeStall e = new EdgeStall();
        if (e.isEnabled()) {
            e.reactor = reactor;
            e.fd = r.fd;
            e.handlerClass = r.handler.getClass();
            e.unreadBytes = unread;
            e.commit();
        }
    }

    static void blockedLoop(String reactor, Thread thread, long blockedNanos, long thresholdNanos, String stack) {
        if (!AVAILABLE) {
            return;
        }
        BlockedLoop e = new BlockedLoop();
        if (e.isEnabled()) {
            e.reactor = reactor;
            e.loopThread = thread;
            e.blocked = blockedNanos;
            e.threshold = thresholdNanos;
            e.loopStack = stack;
            e.commit();
        }
    }

    @Name("org.epoll4j.ReactorStatistics")
    @Label("Reactor Statistics")
    @Category("epoll4j")
    @Description("One reactor's counters and connection figures (Reactor.stats()), once a second")
    @Period("1 s")
    @StackTrace(false)
    static final class Statistics extends Event {
        @Label("Reactor")
        String reactor;
        @Label("Loop Iterations")
        long loopIterations;
        @Label("epoll_wait Calls")
        long epollWaits;
        @Label("Events Dispatched")
        long eventsDispatched;
        @Label("Stale Events Dropped")
        long staleEventsDropped;
        @Label("Wake-ups Written")
        long wakeupsWritten;
        @Label("Tasks Run")
        long tasksRun;
        @Label("Timers Fired")
        long timersFired;
        @Label("Handler Failures")
        long handlerFailures;
        @Label("EDGE Stalls Reported")
        long edgeStallsReported;
        @Label("Registrations")
        int registrations;
        @Label("Event Capacity")
        int eventCapacity;
        @Label("epoll_ctl Calls")
        long epollCtls;
        @Label("Open Connections")
        int openConnections;
        @Label("Paused Connections")
        @Description("Open connections whose reading is paused")
        int pausedConnections;
        @Label("Queued Bytes")
        @Description("Bytes written by the application, not yet accepted by the kernel (TLS plaintext held included)")
        @DataAmount
        long queuedBytes;
        @Label("Bytes Read")
        @Description("Open connections' bytes read plus closed ones' totals")
        @DataAmount
        long bytesRead;
        @Label("Bytes Written")
        @Description("Open connections' bytes written plus closed ones' totals")
        @DataAmount
        long bytesWritten;
        @Label("Direct Memory")
        @Description("Direct buffers held: the event array, the connection layer's shared buffers and write-queue "
                + "chunks, queued or pooled")
        @DataAmount
        long directMemoryBytes;
    }

    @Name("org.epoll4j.SlowDispatch")
    @Label("Slow Dispatch")
    @Category("epoll4j")
    @Description("A handler, task or timer that ran longer than the reactor's slowDispatchThreshold")
    @StackTrace(false)
    static final class SlowDispatch extends Event {
        @Label("Reactor")
        String reactor;
        @Label("Kind")
        @Description("handler, task or timer")
        String kind;
        @Label("File Descriptor")
        @Description("-1 for a task or timer")
        int fd;
        @Label("Handler Class")
        Class<?> handlerClass;
        @Label("Elapsed")
        @Timespan
        long elapsed;
    }

    @Name("org.epoll4j.HandlerFailure")
    @Label("Handler Failure")
    @Category("epoll4j")
    @Description("A handler, task or timer threw; a handler's registration was cancelled")
    @StackTrace(false)
    static final class HandlerFailure extends Event {
        @Label("Reactor")
        String reactor;
        @Label("File Descriptor")
        @Description("-1 for a task or timer")
        int fd;
        @Label("Handler Class")
        Class<?> handlerClass;
        @Label("Exception Class")
        Class<?> exceptionClass;
        @Label("Message")
        String message;
    }

    @Name("org.epoll4j.EdgeStall")
    @Label("EDGE Stall")
    @Category("epoll4j")
    @Description("An EDGE handler returned with bytes unread (debug mode, epoll4j.debug)")
    @StackTrace(false)
    static final class EdgeStall extends Event {
        @Label("Reactor")
        String reactor;
        @Label("File Descriptor")
        int fd;
        @Label("Handler Class")
        Class<?> handlerClass;
        @Label("Unread Bytes")
        int unreadBytes;
    }

    @Name("org.epoll4j.BlockedLoop")
    @Label("Blocked Loop")
    @Category("epoll4j")
    @Description("A reactor thread had not come back to epoll_wait within its blockedLoopThreshold")
    @StackTrace(false)
    static final class BlockedLoop extends Event {
        @Label("Reactor")
        String reactor;
        @Label("Loop Thread")
        Thread loopThread;
        @Label("Blocked For")
        @Timespan
        long blocked;
        @Label("Threshold")
        @Timespan
        long threshold;
        @Label("Loop Stack")
        String loopStack;
    }
}
