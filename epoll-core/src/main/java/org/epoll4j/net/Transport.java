package org.epoll4j.net;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The stage between a {@link Connection}'s handler and its socket: {@link PlainTransport} passes bytes through,
 * {@link TlsTransport} encrypts and decrypts them. The connection owns the socket, the lifecycle and the two queues
 * ({@link Inbound}, {@link Outbound}); a transport only turns what the socket read into what the handler sees, and
 * what the handler writes into what the outbound queue sends. Bytes flow one way in each direction:
 * socket → Inbound → transport → handler, and handler → transport → Outbound → socket.
 *
 * <p>Loop-thread only, like the connection's state. A transport calls back into its connection through the
 * package-private methods both transports share ({@code established}, {@code deliver}, {@code peerEnded},
 * {@code fail}, {@code outputDrained}, ...), never through TLS-only ones.
 */
interface Transport {
    /** The socket is connected: a plain transport is established at once, TLS starts its handshake. */
    void start() throws Exception;

    /** Whether the handler may see the connection (TLS: the handshake finished). */
    boolean established();

    /** Bytes the socket read (the reactor's shared buffer: valid during the call only). */
    void received(ByteBuffer net) throws Exception;

    /** Whether bytes already read wait here for reading to go on (TLS: whole records left while paused). */
    boolean hasBuffered();

    /** Delivers what {@link #hasBuffered()} holds, as far as the connection still wants data. */
    void deliverBuffered() throws Exception;

    /**
     * The peer's FIN was read. Returns what makes that end unclean (TLS: no close_notify came, or the handshake was
     * cut short), or {@code null} for a clean end of input.
     */
    Throwable endOfStream();

    /** The handler's bytes, in order. {@code src} is fully consumed on return (copied if it has to wait). */
    void write(ByteBuffer src) throws Exception;

    /** Several buffers as one unit (leaving together where the socket takes them). */
    void writeAll(ByteBuffer[] srcs) throws Exception;

    /**
     * The handler's bytes with file descriptors attached to the first of them (SCM_RIGHTS), in order with every
     * other write; {@code fds} are the library's dups, the transport's to close once sent or dropped. Only a plain
     * transport can: fds cannot travel inside TLS records, so the default refuses (and closes them).
     */
    default void writeWithRights(ByteBuffer src, int[] fds) throws Exception {
        for (int fd : fds) {
            org.epoll4j.internal.LibC.close(fd);
        }
        throw new IllegalStateException("file descriptors cannot be passed on a TLS connection: they would have to "
                + "travel outside the encrypted records");
    }

    /** Opens {@code path} the way this transport sends files (plain: an fd for sendfile(2); TLS: a channel). */
    FileRef openFile(Path path) throws IOException;

    /** Queues a file region behind everything written so far; the transport closes {@code file} if it owns it. */
    void addFile(FileRef file, long position, long count) throws Exception;

    /** Holds writes back until {@link #uncork()}. */
    void cork();

    /** Sends what the cork held back. */
    void uncork() throws Exception;

    /** Whether {@link #cork()} is in effect; any thread (a recent value). */
    boolean isCorked();

    /**
     * {@code close()} or {@code shutdownOutput()} was asked: uncorks and queues the transport's own end of output
     * (TLS: close_notify) behind everything written so far.
     */
    void endOutput() throws Exception;

    /** Bytes written but not yet handed to the outbound queue (TLS: plaintext not yet encrypted); any thread. */
    long held();

    /** Whether everything written (and, once asked, the end of output) has reached the outbound queue. */
    boolean allQueued();

    /** The outbound queue drained: hand it the next batch (TLS: encrypt held plaintext). */
    void refill() throws Exception;

    /** How long a graceful close waits for the peer's end once everything was sent. */
    Duration lingerTimeout(ConnectionConfig config);

    /** Whether {@code t} is this transport's failure on what the peer sent (a connection event, not a bug). */
    boolean isPeerFailure(Throwable t);

    /** The connection closed: release buffers and files. */
    void closed();

    /** The TLS session, or {@code null}. */
    SSLSession session();

    /** The ALPN protocol agreed, or {@code null}. */
    String applicationProtocol();

    /**
     * A file to send: an fd opened for sendfile(2) ({@code fd >= 0}), or a channel (closed when sent if
     * {@code owned}).
     */
    record FileRef(int fd, FileChannel channel, boolean owned) {
        /** Closes what this reference opened; for a file that will never be queued or sent. */
        void closeQuietly() {
            if (fd >= 0) {
                org.epoll4j.internal.LibC.close(fd);
            }
            if (owned) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // read-only: nothing to lose
                }
            }
        }
    }
}
