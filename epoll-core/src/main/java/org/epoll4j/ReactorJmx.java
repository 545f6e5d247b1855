package org.epoll4j;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;

/**
 * {@link ReactorMXBean} for one reactor, registered on the platform MBean server. The loop counters are read without
 * the walk over the connections that only the connection figures need.
 */
final class ReactorJmx implements ReactorMXBean {
    private final Reactor reactor;
    private final ObjectName objectName;

    private ReactorJmx(Reactor reactor, ObjectName objectName) {
        this.reactor = reactor;
        this.objectName = objectName;
    }

    /** {@code org.epoll4j:type=Reactor,name=NAME}, the name quoted only when JMX needs it. */
    static ObjectName objectName(String reactorName) {
        String value = reactorName.matches("[^,=:\"*?\\n]*") ? reactorName : ObjectName.quote(reactorName);
        try {
            return new ObjectName("org.epoll4j:type=Reactor,name=" + value);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("reactor name " + reactorName + " cannot be a JMX name", e);
        }
    }

    /**
     * Registers {@code reactor}'s statistics.
     *
     * @throws IllegalStateException if another MBean has that name (two reactors with one name)
     */
    static ReactorJmx register(Reactor reactor) {
        ReactorJmx bean = new ReactorJmx(reactor, objectName(reactor.name()));
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(bean, bean.objectName);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalStateException("JMX name " + bean.objectName + " is already registered: give each "
                    + "reactor built with jmx(true) a unique name", e);
        } catch (JMException e) {
            throw new IllegalStateException("could not register " + bean.objectName, e);
        }
        return bean;
    }

    void unregister() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            server.unregisterMBean(objectName);
        } catch (InstanceNotFoundException e) {
            // somebody unregistered it for us
        } catch (JMException e) {
            Reactor.LOG.log(System.Logger.Level.WARNING, "could not unregister " + objectName, e);
        }
    }

    @Override
    public String getName() {
        return reactor.name();
    }

    @Override
    public boolean isRunning() {
        return reactor.isRunning();
    }

    @Override
    public boolean isClosed() {
        return reactor.isClosed();
    }

    @Override
    public long getLoopIterations() {
        return reactor.loopStats().loopIterations();
    }

    @Override
    public long getEpollWaits() {
        return reactor.loopStats().epollWaits();
    }

    @Override
    public long getEventsDispatched() {
        return reactor.loopStats().eventsDispatched();
    }

    @Override
    public long getStaleEventsDropped() {
        return reactor.loopStats().staleEventsDropped();
    }

    @Override
    public long getWakeupsWritten() {
        return reactor.loopStats().wakeupsWritten();
    }

    @Override
    public long getTasksRun() {
        return reactor.loopStats().tasksRun();
    }

    @Override
    public long getTimersFired() {
        return reactor.loopStats().timersFired();
    }

    @Override
    public long getHandlerFailures() {
        return reactor.loopStats().handlerFailures();
    }

    @Override
    public long getEdgeStallsReported() {
        return reactor.loopStats().edgeStallsReported();
    }

    @Override
    public int getRegistrations() {
        return reactor.loopStats().registrations();
    }

    @Override
    public int getEventCapacity() {
        return reactor.loopStats().eventCapacity();
    }

    @Override
    public long getEpollCtls() {
        return reactor.loopStats().epollCtls();
    }

    @Override
    public int getOpenConnections() {
        return reactor.stats().openConnections();
    }

    @Override
    public int getPausedConnections() {
        return reactor.stats().pausedConnections();
    }

    @Override
    public long getQueuedBytes() {
        return reactor.stats().queuedBytes();
    }

    @Override
    public long getBytesRead() {
        return reactor.stats().bytesRead();
    }

    @Override
    public long getBytesWritten() {
        return reactor.stats().bytesWritten();
    }

    @Override
    public long getDirectMemoryBytes() {
        return reactor.stats().directMemoryBytes();
    }
}
