package org.epoll4j.readme;

// GUIDE-BEGIN
import org.epoll4j.ReactorGroup;
import org.epoll4j.net.Connection;
import org.epoll4j.net.FrameHandler;
import org.epoll4j.net.FrameTooLongException;
import org.epoll4j.net.LineDecoder;
import org.epoll4j.net.Offload;
import org.epoll4j.net.TcpServerGroup;

import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;

/** A line protocol: PING is answered on the loop, anything else by slow work on a pool; replies in request order. */
public final class GuideOffloadExample implements FrameHandler<String> {
    private final ExecutorService pool;

    GuideOffloadExample(ExecutorService pool) {
        this.pool = pool;
    }

    @Override
    public void onOpen(Connection c) {
        c.attach(Offload.of(c, pool, 16));  // at most 16 replies outstanding; then reading pauses
    }

    @Override
    public void onFrame(Connection c, String line) {
        Offload offload = (Offload) c.attachment();
        if (line.equals("PING")) {          // ready now: takes its place behind the replies still computing
            offload.complete("PONG", (reply, error) -> reply(c, reply, error));
        } else {
            offload.submit(() -> slowUpperCase(line), (reply, error) -> reply(c, reply, error));
        }
    }

    private static void reply(Connection c, String reply, Throwable error) {
        if (!c.isOpen()) {
            return;                         // the peer went away meanwhile
        }
        c.write(error == null ? reply + "\n" : "ERR " + error.getMessage() + "\n");
        if (!c.isWritable()) {
            c.pauseReading();               // backpressure: the peer is not reading its replies
        }
    }

    @Override
    public void onWritabilityChanged(Connection c, boolean writable) {
        if (writable) {
            c.resumeReading();              // Offload's own pause still holds while it is at its cap
        }
    }

    @Override
    public boolean onFrameTooLong(Connection c, FrameTooLongException e) {
        Offload offload = (Offload) c.attachment();   // the answer too waits for the replies before it
        offload.complete("ERR line too long", (reply, error) -> reply(c, reply, error));
        return false;                       // skip the line, keep the connection
    }

    // onReadHangup is the default: a client that half-closes (nc -N) is closed once every reply is written.

    static String slowUpperCase(String line) throws InterruptedException {
        Thread.sleep(1);                    // stands for a blocking call
        return line.toUpperCase();
    }

    /** The server on every reactor of {@code group}; stop it with group.shutdownGracefully(quiet, timeout). */
    public static TcpServerGroup start(ReactorGroup group, ExecutorService pool, int port) throws Exception {
        return TcpServerGroup.builder(group)
                .bind(new InetSocketAddress("127.0.0.1", port))
                .handlerFactory(() -> LineDecoder.handler(1024, new GuideOffloadExample(pool)))
                .start();
    }
}
// GUIDE-END
