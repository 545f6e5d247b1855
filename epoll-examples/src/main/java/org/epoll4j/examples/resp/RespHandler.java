package org.epoll4j.examples.resp;

import org.epoll4j.net.ClosedConnectionException;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Redis protocol on one reactor's connections. Every complete request of a read is parsed and run under one
 * acquisition of the keyspace lock, and their replies leave in one {@link Connection#write}: a pipelined batch costs
 * one read and one send. Only a request's incomplete tail is copied out of the reactor's scratch buffer.
 */
final class RespHandler implements ConnectionHandler {
    private final Keyspace keyspace;
    private final ExpirySweeper sweeper;
    private final AtomicLong buffered;
    private final long queryBufferLimit;
    private final Commands commands;
    private final Reply reply = new Reply();
    private byte[] scratch = new byte[64 * 1024];
    private long connections;
    private long protocolErrors;

    RespHandler(Keyspace keyspace, ExpirySweeper sweeper, AtomicLong buffered, long queryBufferLimit) {
        this.keyspace = keyspace;
        this.sweeper = sweeper;
        this.buffered = buffered;
        this.queryBufferLimit = queryBufferLimit;
        this.commands = new Commands(keyspace);
    }

    @Override
    public void onOpen(Connection connection) {
        connections++;
        connection.attach(new Session(buffered));
        sweeper.opened(connection.reactor());
    }

    @Override
    public void onData(Connection connection, ByteBuffer data) {
        Session s = (Session) connection.attachment();
        if (s.done) {
            return;
        }
        byte[] a;
        int end;
        if (s.pending() == 0) {
            end = data.remaining();
            if (scratch.length < end) {
                scratch = new byte[end];
            }
            data.get(scratch, 0, end);
            a = scratch;
        } else {
            s.append(data);
            a = s.buffer();
            end = s.pending();
        }
        int start = 0;
        boolean close = false;
        RequestParser parser = s.parser;
        reply.begin(connection);
        try {
            keyspace.lock.lock();
            try {
                long now = Keyspace.now();
                while (true) {
                    int status = parser.parse(a, start, end);
                    if (status == RequestParser.NEED_MORE) {
                        break;
                    }
                    if (status == RequestParser.ERROR) {
                        protocolErrors++;
                        reply.error(parser.error());
                        close = true;
                        break;
                    }
                    start += parser.consumed();
                    if (parser.args().argc > 0 && commands.execute(parser.args(), reply, now)) {
                        close = true; // QUIT
                        break;
                    }
                }
            } finally {
                keyspace.lock.unlock();
            }
            if (!close && end - start > queryBufferLimit) {
                protocolErrors++;
                reply.error("ERR Protocol error: request larger than the query buffer limit of "
                        + queryBufferLimit + " bytes");
                close = true;
            }
            if (close) {
                s.done = true;
                s.release();
                reply.flush();
                connection.close(); // after the reply: close() sends what is queued first
                return;
            }
            s.keep(a, start, end);
            reply.flush();
        } catch (ClosedConnectionException gone) {
            s.release(); // a large reply's write failed and closed the connection: nothing left to answer
            return;
        }
        if (!connection.isWritable()) {
            connection.pauseReading(); // the client does not read its replies: stop taking its requests
        }
    }

    @Override
    public void onWritabilityChanged(Connection connection, boolean writable) {
        if (writable) {
            connection.resumeReading();
        }
    }

    @Override
    public void onClose(Connection connection, Throwable cause) {
        Object s = connection.attachment();
        if (s instanceof Session) {
            ((Session) s).release();
        }
        sweeper.closed();
    }

    /** Connections accepted (plain counter: read after the reactor's thread ended). */
    long connections() {
        return connections;
    }

    /** Requests run. */
    long commands() {
        return commands.executed();
    }

    /** Connection.write calls made. */
    long writes() {
        return reply.writes();
    }

    /** Connections closed for malformed input. */
    long protocolErrors() {
        return protocolErrors;
    }
}
