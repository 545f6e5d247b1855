package org.epoll4j.net;

/**
 * A server's {@link ServerStats} as a JMX MXBean, registered as {@code org.epoll4j:type=TcpServer,name=NAME} when the
 * server is built with {@link TcpServer.Builder#jmxName(String)} or {@link TcpServerGroup.Builder#jmxName(String)},
 * and unregistered when its listener closes. Each attribute is read when asked (a fresh {@code stats()}); jconsole,
 * VisualVM and {@link javax.management.JMX#newMXBeanProxy} can read them.
 */
public interface TcpServerMXBean {
    /** @return the name the server was registered with */
    String getName();

    /** @return the bound address, as text */
    String getLocalAddress();

    /** @return {@link ServerStats#openConnections()} */
    int getOpenConnections();

    /** @return {@link ServerStats#pausedConnections()} */
    int getPausedConnections();

    /** @return {@link ServerStats#queuedBytes()} */
    long getQueuedBytes();

    /** @return {@link ServerStats#bytesRead()} */
    long getBytesRead();

    /** @return {@link ServerStats#bytesWritten()} */
    long getBytesWritten();

    /** @return {@link ServerStats#directMemoryBytes()} */
    long getDirectMemoryBytes();

    /** @return {@link ServerStats#acceptedConnections()} */
    long getAcceptedConnections();

    /** @return {@link ServerStats#rejectedConnections()} */
    long getRejectedConnections();

    /** @return {@link ServerStats#tlsHandshakeFailures()} */
    long getTlsHandshakeFailures();

    /** @return {@link ServerStats#offloadResultsDropped()} */
    long getOffloadResultsDropped();
}
