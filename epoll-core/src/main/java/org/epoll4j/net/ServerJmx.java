package org.epoll4j.net;

import javax.management.InstanceAlreadyExistsException;
import javax.management.InstanceNotFoundException;
import javax.management.JMException;
import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.function.Supplier;

/** {@link TcpServerMXBean} for a {@link TcpServer} or {@link TcpServerGroup}, on the platform MBean server. */
final class ServerJmx implements TcpServerMXBean {
    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());

    private final String name;
    private final String localAddress;
    private final Supplier<ServerStats> stats;
    private final ObjectName objectName;

    private ServerJmx(String name, String localAddress, Supplier<ServerStats> stats) {
        this.name = name;
        this.localAddress = localAddress;
        this.stats = stats;
        this.objectName = objectName(name);
    }

    /**
     * {@code org.epoll4j:type=TcpServer,name=NAME}, the name quoted only when JMX needs it.
     *
     * @throws IllegalArgumentException if {@code name} is empty
     */
    static ObjectName objectName(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("JMX name must not be empty");
        }
        String value = name.matches("[^,=:\"*?\\n]*") ? name : ObjectName.quote(name);
        try {
            return new ObjectName("org.epoll4j:type=TcpServer,name=" + value);
        } catch (MalformedObjectNameException e) {
            throw new IllegalArgumentException("server name " + name + " cannot be a JMX name", e);
        }
    }

    /**
     * Registers a server's statistics.
     *
     * @throws IllegalStateException if another MBean has that name
     */
    static ServerJmx register(String name, Object localAddress, Supplier<ServerStats> stats) {
        ServerJmx bean = new ServerJmx(name, String.valueOf(localAddress), stats);
        try {
            ManagementFactory.getPlatformMBeanServer().registerMBean(bean, bean.objectName);
        } catch (InstanceAlreadyExistsException e) {
            throw new IllegalStateException("JMX name " + bean.objectName + " is already registered: give each "
                    + "server built with jmxName(...) a unique name", e);
        } catch (JMException e) {
            throw new IllegalStateException("could not register " + bean.objectName, e);
        }
        return bean;
    }

    /** Idempotent. */
    void unregister() {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(objectName);
        } catch (InstanceNotFoundException e) {
            // unregistered already
        } catch (JMException e) {
            LOG.log(System.Logger.Level.WARNING, "could not unregister " + objectName, e);
        }
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public String getLocalAddress() {
        return localAddress;
    }

    @Override
    public int getOpenConnections() {
        return stats.get().openConnections();
    }

    @Override
    public int getPausedConnections() {
        return stats.get().pausedConnections();
    }

    @Override
    public long getQueuedBytes() {
        return stats.get().queuedBytes();
    }

    @Override
    public long getBytesRead() {
        return stats.get().bytesRead();
    }

    @Override
    public long getBytesWritten() {
        return stats.get().bytesWritten();
    }

    @Override
    public long getDirectMemoryBytes() {
        return stats.get().directMemoryBytes();
    }

    @Override
    public long getAcceptedConnections() {
        return stats.get().acceptedConnections();
    }

    @Override
    public long getRejectedConnections() {
        return stats.get().rejectedConnections();
    }

    @Override
    public long getTlsHandshakeFailures() {
        return stats.get().tlsHandshakeFailures();
    }

    @Override
    public long getOffloadResultsDropped() {
        return stats.get().offloadResultsDropped();
    }
}
