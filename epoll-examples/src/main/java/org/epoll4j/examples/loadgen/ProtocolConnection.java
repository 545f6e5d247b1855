package org.epoll4j.examples.loadgen;

import org.epoll4j.net.Connection;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A load connection speaking a {@link Protocol} (http, resp): requests out, complete responses counted. */
final class ProtocolConnection extends PacedConnection {
    private static final int BATCH = 64;

    private final Protocol protocol;
    private final ByteBuffer out;

    ProtocolConnection(int id, int depth, LoadStats stats, long interval, Protocol protocol) {
        super(id, depth, stats, interval);
        this.protocol = protocol;
        this.out = ByteBuffer.allocate(protocol.maxRequestBytes() * Math.min(depth, BATCH));
    }

    @Override
    protected void writeMessages(long messages) {
        out.clear();
        for (long m = 0; m < messages; m++) {
            if (out.remaining() < protocol.maxRequestBytes()) {
                flush();
            }
            protocol.request(out);
        }
        flush();
    }

    private void flush() {
        out.flip();
        if (out.hasRemaining() && connection.isOpen()) {
            connection.write(out);
        }
        out.clear();
    }

    @Override
    public void onData(Connection c, ByteBuffer data) {
        long now = System.nanoTime();
        int done;
        try {
            done = protocol.responses(data);
        } catch (IOException e) {
            c.closeWith(e);
            return;
        }
        if (done > sentMessages - receivedMessages) {
            c.closeWith(new IOException("the server sent more responses than it was sent requests"));
            return;
        }
        completed(done, now);
    }

    /** Responses that reported a failure (read after the reactors stopped). */
    long failures() {
        return protocol.failures();
    }
}
