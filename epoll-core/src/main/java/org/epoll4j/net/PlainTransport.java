package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.LibC;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/** Bytes as they are: what the socket read goes to the handler, what the handler writes to the outbound queue. */
final class PlainTransport implements Transport {
    private final Connection conn;
    private final Outbound out;

    PlainTransport(Connection conn, Outbound out) {
        this.conn = conn;
        this.out = out;
    }

    @Override
    public void start() {
        conn.established();
    }

    @Override
    public boolean established() {
        return true;
    }

    @Override
    public void received(ByteBuffer net) throws Exception {
        conn.deliver(net);
    }

    @Override
    public boolean hasBuffered() {
        return false;
    }

    @Override
    public void deliverBuffered() {
        // nothing is ever held
    }

    @Override
    public Throwable endOfStream() {
        return null;
    }

    @Override
    public void write(ByteBuffer src) {
        out.write(src);
    }

    @Override
    public void writeAll(ByteBuffer[] srcs) {
        out.writeAll(srcs);
    }

    @Override
    public void writeWithRights(ByteBuffer src, int[] fds) {
        out.writeWithRights(src, fds);
    }

    @Override
    public FileRef openFile(Path path) throws IOException {
        // O_NONBLOCK too, in case the path was swapped for a FIFO since the caller's check; sendfile(2) then fails
        // cleanly instead of blocking the loop.
        int file = LibC.open(path.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC | LibC.O_NONBLOCK);
        if (file < 0) {
            throw new EpollException("open(" + path + ", O_RDONLY|O_NONBLOCK)", LibC.errno());
        }
        return new FileRef(file, null, false);
    }

    @Override
    public void addFile(FileRef file, long position, long count) {
        out.addFile(file.fd(), file.channel(), position, count);
    }

    @Override
    public void cork() {
        out.cork();
    }

    @Override
    public void uncork() {
        out.uncork();
    }

    @Override
    public boolean isCorked() {
        return out.isCorked();
    }

    @Override
    public void endOutput() {
        if (out.uncorkForEnd() && !out.isEmpty()) {
            out.flushNowOrLater(); // no EPOLLOUT is coming for bytes the cork held back
        }
    }

    @Override
    public long held() {
        return 0;
    }

    @Override
    public boolean allQueued() {
        return true;
    }

    @Override
    public void refill() {
        // nothing is held
    }

    @Override
    public Duration lingerTimeout(ConnectionConfig config) {
        return config.lingerTimeout();
    }

    @Override
    public boolean isPeerFailure(Throwable t) {
        return false;
    }

    @Override
    public void closed() {
        // nothing held
    }

    @Override
    public SSLSession session() {
        return null;
    }

    @Override
    public String applicationProtocol() {
        return null;
    }
}
