package org.epoll4j;

/**
 * A snapshot of a {@link Reactor}'s counters, from {@link Reactor#stats()}: what the loop did (iterations, events,
 * tasks, timers ...), and what its connections hold (open and paused connections, bytes queued, read and written,
 * direct memory). The connection figures are computed when the snapshot is taken, from values the connections keep
 * anyway; nothing is counted per read or write for them.
 *
 * @param loopIterations      completed loop iterations (one per {@link Reactor#poll} and per turn of {@link Reactor#run})
 * @param epollWaits          epoll_wait calls
 * @param eventsDispatched    events handed to handlers
 * @param staleEventsDropped  events whose token no longer matched a live registration
 * @param wakeupsWritten      eventfd writes by {@link Reactor#wakeup()} (skipped when the loop was already awake)
 * @param tasksRun            tasks run from {@link Reactor#execute}
 * @param timersFired         scheduled tasks run
 * @param handlerFailures     handler invocations that threw
 * @param edgeStallsReported  EDGE handlers found returning with bytes unread (debug mode only)
 * @param registrations       live registrations now
 * @param eventCapacity       current size of the event array
 * @param epollCtls           epoll_ctl calls for registrations (ADD, MOD, DEL; from any thread): the cost LEVEL
 *                            triggering pays when a writer's queue fills and drains, and EDGE does not
 * @param openConnections     connections of the {@code org.epoll4j.net} layer open on this reactor now (servers',
 *                            clients' and child processes'), from when they are established (a TLS one after its
 *                            handshake) until they close
 * @param pausedConnections   of those, the ones whose reading is paused now, for any reason
 *                            ({@code Connection.isReadingPaused()})
 * @param queuedBytes         bytes those connections were given to write and the kernel has not accepted yet, TLS
 *                            plaintext held back included (the sum of {@code Connection.queuedBytes()})
 * @param bytesRead           bytes read by this reactor's connections: the open ones' {@code bytesRead()} plus the
 *                            totals of those that closed
 * @param bytesWritten        bytes the kernel accepted from this reactor's connections, counted the same way
 * @param directMemoryBytes   direct (off-heap) memory the reactor and its connection layer hold: the event array,
 *                            the shared read, bounce and iovec buffers, write-queue chunks, queued or pooled, and
 *                            each open datagram endpoint's batch and send-queue buffers
 */
public record ReactorStats(long loopIterations, long epollWaits, long eventsDispatched, long staleEventsDropped,
                           long wakeupsWritten, long tasksRun, long timersFired, long handlerFailures,
                           long edgeStallsReported, int registrations, int eventCapacity, long epollCtls,
                           int openConnections, int pausedConnections, long queuedBytes, long bytesRead,
                           long bytesWritten, long directMemoryBytes) {
    /**
     * The loop counters alone, with no connection or memory figures (all zero): the constructor of releases before
     * those were added.
     *
     * @param loopIterations     see {@link #loopIterations()}
     * @param epollWaits         see {@link #epollWaits()}
     * @param eventsDispatched   see {@link #eventsDispatched()}
     * @param staleEventsDropped see {@link #staleEventsDropped()}
     * @param wakeupsWritten     see {@link #wakeupsWritten()}
     * @param tasksRun           see {@link #tasksRun()}
     * @param timersFired        see {@link #timersFired()}
     * @param handlerFailures    see {@link #handlerFailures()}
     * @param edgeStallsReported see {@link #edgeStallsReported()}
     * @param registrations      see {@link #registrations()}
     * @param eventCapacity      see {@link #eventCapacity()}
     * @param epollCtls          see {@link #epollCtls()}
     */
    public ReactorStats(long loopIterations, long epollWaits, long eventsDispatched, long staleEventsDropped,
                        long wakeupsWritten, long tasksRun, long timersFired, long handlerFailures,
                        long edgeStallsReported, int registrations, int eventCapacity, long epollCtls) {
        this(loopIterations, epollWaits, eventsDispatched, staleEventsDropped, wakeupsWritten, tasksRun, timersFired,
                handlerFailures, edgeStallsReported, registrations, eventCapacity, epollCtls, 0, 0, 0, 0, 0, 0);
    }
}
