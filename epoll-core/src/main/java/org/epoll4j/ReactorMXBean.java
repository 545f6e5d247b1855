package org.epoll4j;

/**
 * A reactor's statistics as a JMX MXBean, registered as {@code org.epoll4j:type=Reactor,name=NAME} when the reactor
 * is built with {@link Reactor.Builder#jmx(boolean) jmx(true)} and unregistered when it closes. Each attribute is
 * the matching {@link ReactorStats} value, read when asked (see {@link Reactor#stats()}); {@code jconsole} and
 * {@code jcmd PID VM.*} tools can read them, and {@link javax.management.JMX#newMXBeanProxy} gives a typed view.
 */
public interface ReactorMXBean {
    /** @return the reactor's name */
    String getName();

    /** @return whether a thread runs the loop now */
    boolean isRunning();

    /** @return whether close() was called */
    boolean isClosed();

    /** @return {@link ReactorStats#loopIterations()} */
    long getLoopIterations();

    /** @return {@link ReactorStats#epollWaits()} */
    long getEpollWaits();

    /** @return {@link ReactorStats#eventsDispatched()} */
    long getEventsDispatched();

    /** @return {@link ReactorStats#staleEventsDropped()} */
    long getStaleEventsDropped();

    /** @return {@link ReactorStats#wakeupsWritten()} */
    long getWakeupsWritten();

    /** @return {@link ReactorStats#tasksRun()} */
    long getTasksRun();

    /** @return {@link ReactorStats#timersFired()} */
    long getTimersFired();

    /** @return {@link ReactorStats#handlerFailures()} */
    long getHandlerFailures();

    /** @return {@link ReactorStats#edgeStallsReported()} */
    long getEdgeStallsReported();

    /** @return {@link ReactorStats#registrations()} */
    int getRegistrations();

    /** @return {@link ReactorStats#eventCapacity()} */
    int getEventCapacity();

    /** @return {@link ReactorStats#epollCtls()} */
    long getEpollCtls();

    /** @return {@link ReactorStats#openConnections()} */
    int getOpenConnections();

    /** @return {@link ReactorStats#pausedConnections()} */
    int getPausedConnections();

    /** @return {@link ReactorStats#queuedBytes()} */
    long getQueuedBytes();

    /** @return {@link ReactorStats#bytesRead()} */
    long getBytesRead();

    /** @return {@link ReactorStats#bytesWritten()} */
    long getBytesWritten();

    /** @return {@link ReactorStats#directMemoryBytes()} */
    long getDirectMemoryBytes();
}
