package org.epoll4j.net;

import java.net.SocketTimeoutException;

/**
 * A blocking call of a {@link BlockingConnection} waited longer than one of its timeouts. {@link #kind()} names
 * which. After a {@link Kind#READ READ} or {@link Kind#WRITE WRITE} timeout the connection stays open (retry, or
 * close it); after a {@link Kind#CONNECT CONNECT} or an idle timeout it is closed.
 */
public class ConnectionTimeoutException extends SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    /** Which timeout expired. */
    public enum Kind {
        /** A blocking connect (and TLS handshake) took longer than its timeout; the attempt was abandoned. */
        CONNECT,
        /** A read waited for bytes longer than {@link BlockingConnection#readTimeout()}; the connection is open. */
        READ,
        /**
         * A write waited for room, or a flush for the socket to drain, longer than
         * {@link BlockingConnection#writeTimeout()}; the connection is open, and {@link #bytesTransferred} bytes of
         * the write were queued.
         */
        WRITE,
        /** The {@link ConnectionConfig} read-idle timeout closed the connection. */
        READ_IDLE,
        /** The {@link ConnectionConfig} write-idle timeout closed the connection. */
        WRITE_IDLE,
        /** The {@link ConnectionConfig} all-idle timeout closed the connection. */
        ALL_IDLE;

        static Kind of(IdleState state) {
            switch (state) {
                case READER_IDLE:
                    return READ_IDLE;
                case WRITER_IDLE:
                    return WRITE_IDLE;
                default:
                    return ALL_IDLE;
            }
        }
    }

    private final Kind kind;

    /**
     * @param kind    which timeout expired
     * @param message what timed out, and after how long
     */
    public ConnectionTimeoutException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** Which timeout expired. */
    public Kind kind() {
        return kind;
    }
}
