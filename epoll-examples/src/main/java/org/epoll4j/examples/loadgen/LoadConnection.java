package org.epoll4j.examples.loadgen;

import org.epoll4j.net.Connection;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One echo load connection: keeps up to {@code depth} messages of {@code size} bytes in flight (closed or open loop,
 * see {@link PacedConnection}); each echoed message is checked byte for byte and its latency recorded. Everything
 * runs on the connection's reactor thread; the per-message path allocates nothing.
 */
final class LoadConnection extends PacedConnection {
    private final int size;
    private final int start;
    private final ByteBuffer out = StreamPattern.view();
    private final ByteBuffer expected = StreamPattern.view();
    private long sentBytes;
    private long receivedBytes;

    LoadConnection(int id, int size, int depth, LoadStats stats) {
        this(id, size, depth, stats, 0);
    }

    /** @param interval nanoseconds between messages (open loop), or 0 (closed loop) */
    LoadConnection(int id, int size, int depth, LoadStats stats, long interval) {
        super(id, depth, stats, interval);
        this.size = size;
        this.start = StreamPattern.start(id);
    }

    @Override
    protected void writeMessages(long messages) {
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
        completed(receivedBytes / size - receivedMessages, now);
    }

    private IOException mismatch(long at, byte got) {
        return new IOException(String.format("payload mismatch: byte %d of message %d is 0x%02x, expected 0x%02x",
                at % size, at / size, got & 0xff, StreamPattern.at(start, at) & 0xff));
    }
}
