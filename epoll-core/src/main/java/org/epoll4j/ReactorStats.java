package org.epoll4j;

/**
 * A snapshot of a {@link Reactor}'s counters, from {@link Reactor#stats()}.
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
 */
public record ReactorStats(long loopIterations, long epollWaits, long eventsDispatched, long staleEventsDropped,
                           long wakeupsWritten, long tasksRun, long timersFired, long handlerFailures,
                           long edgeStallsReported, int registrations, int eventCapacity, long epollCtls) {
}
