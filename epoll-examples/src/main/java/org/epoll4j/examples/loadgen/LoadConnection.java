package org.epoll4j.examples.loadgen;

import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One closed-loop load connection: keeps {@code depth} messages of {@code size} bytes in flight; each echoed message
 * is checked byte for byte, its round trip recorded, and a new one sent. Everything runs on the connection's reactor
 * thread; the per-message path allocates nothing.
 */
final class LoadConnection implements ConnectionHandler {
    private final int id;
    private final int size;
    private final int depth;
    private final LoadStats stats;
    private final int start;
    private final ByteBuffer out = StreamPattern.view();
    private final ByteBuffer expected = StreamPattern.view();
    /** Send time of each message in flight, by sequence number modulo depth. */
    private final long[] sentAt;
    private Connection connection;
    private long sentBytes;
    private long receivedBytes;
    private long sentMessages;
    private long receivedMessages;

    LoadConnection(int id, int size, int depth, LoadStats stats) {
        this.id = id;
        this.size = size;
        this.depth = depth;
        this.stats = stats;
        this.start = StreamPattern.start(id);
        this.sentAt = new long[depth];
    }

    @Override
    public void onOpen(Connection c) {
        connection = c;
    }

    /** Puts the first {@code depth} messages in flight; on the reactor thread. */
    void begin() {
        if (connection != null && connection.isOpen()) {
            send(depth, System.nanoTime());
        }
    }

    private void send(long messages, long now) {
        for (long m = 0; m < messages; m++) {
            sentAt[(int) (sentMessages++ % depth)] = now;
        }
        long bytes = messages * size;
        while (bytes > 0 && connection.isOpen()) {
            int n = (int) Math.min(bytes, StreamPattern.CHUNK);
            connection.write(StreamPattern.slice(out, start, sentBytes, n));
            sentBytes += n;
            bytes -= n;
        }
    }

    @Override
    public void onData(Connection c, ByteBuffer data) {
        long now = System.nanoTime();
        int end = data.limit();
        if (receivedBytes + data.remaining() > sentBytes) {
            c.closeWith(new IOException("the server sent " + (receivedBytes + data.remaining() - sentBytes)
                    + " bytes more than it was sent"));
            return;
        }
        while (data.position() < end) {
            int n = Math.min(end - data.position(), StreamPattern.CHUNK);
            data.limit(data.position() + n);
            int bad = data.mismatch(StreamPattern.slice(expected, start, receivedBytes, n));
            if (bad >= 0) {
                c.closeWith(mismatch(receivedBytes + bad, data.get(data.position() + bad)));
                return;
            }
            data.position(data.limit()).limit(end);
            receivedBytes += n;
        }
        long done = receivedBytes / size - receivedMessages;
        for (long m = 0; m < done; m++) {
            stats.record(now - sentAt[(int) (receivedMessages++ % depth)]);
        }
        if (done > 0 && !stats.stopping()) {
            send(done, now);
        }
    }

    private IOException mismatch(long at, byte got) {
        return new IOException(String.format("payload mismatch: byte %d of message %d is 0x%02x, expected 0x%02x",
                at % size, at / size, got & 0xff, StreamPattern.at(start, at) & 0xff));
    }

    @Override
    public void onClose(Connection c, Throwable cause) {
        if (!stats.stopping()) {
            stats.failed("connection " + id + (connection == null ? " could not connect: " : " failed: ")
                    + (cause == null ? "closed by the server" : cause.getMessage()));
        }
    }

    /** The connection, once open. */
    Connection connection() {
        return connection;
    }
}
