package org.epoll4j.net;

/**
 * Serves one connection in straight-line code on a thread of its own (a virtual thread on Java 21+): see
 * {@link BlockingService}. When it returns the connection is closed gracefully (queued bytes are sent first); when
 * it throws, the connection is closed at once with that throwable as the cause.
 */
@FunctionalInterface
public interface BlockingHandler {
    /**
     * Serves {@code connection} until done; may block in any of its calls.
     *
     * @param connection the accepted connection (TLS, if configured, has completed its handshake)
     * @throws Exception anything; the connection is then closed with it as the cause
     */
    void handle(BlockingConnection connection) throws Exception;
}
