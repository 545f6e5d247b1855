package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;

/**
 * Bytes a connection could not send at once: pooled direct chunks, flushed with one gathering sendmsg, and file
 * regions, sent with sendfile(2) (from a path) or straight from a memory mapping (from a FileChannel). Loop-thread
 * only.
 */
final class WriteQueue {
    private static final long MAP_WINDOW = 4L * 1024 * 1024;

    private final NetContext ctx;
    private final ArrayDeque<Object> entries = new ArrayDeque<>();
    private NetContext.Chunk tail;
    private long bytes;

    WriteQueue(NetContext ctx) {
        this.ctx = ctx;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Bytes waiting. */
    long bytes() {
        return bytes;
    }

    /** Copies {@code src}'s remaining bytes into the queue. */
    void add(ByteBuffer src) {
        int n = src.remaining();
        bytes += n;
        while (src.hasRemaining()) {
            if (tail == null || tail.buffer.limit() == tail.buffer.capacity()) {
                tail = ctx.takeChunk();
                entries.addLast(tail);
            }
            ByteBuffer b = tail.buffer;
            int len = Math.min(src.remaining(), b.capacity() - b.limit());
            int at = b.limit();
            b.limit(at + len);
            b.put(at, src, src.position(), len);
            src.position(src.position() + len);
        }
    }

    /** Queues a region of a file opened by us ({@code ownedFd}, closed when done) or of a channel. */
    void addFile(int ownedFd, FileChannel channel, long position, long count) {
        entries.addLast(new FileRegion(ownedFd, channel, position, count));
        tail = null;
        bytes += count;
    }

    /**
     * Sends as much as the socket takes.
     *
     * @return {@code true} when the queue is empty, {@code false} when the socket is full
     * @throws EpollException on a send error (EPIPE, ECONNRESET ...)
     * @throws IOException    reading a queued FileChannel failed
     */
    boolean flush(int fd) throws IOException {
        while (!entries.isEmpty()) {
            Object head = entries.peekFirst();
            if (head instanceof FileRegion region) {
                if (!sendRegion(fd, region)) {
                    return false;
                }
                entries.pollFirst();
                region.release();
                continue;
            }
            int count = 0;
            long total = 0;
            for (Object e : entries) {
                if (!(e instanceof NetContext.Chunk c) || count == NetContext.MAX_IOV) {
                    break;
                }
                ByteBuffer b = c.buffer;
                ctx.iov(count++, c.address + b.position(), b.remaining());
                total += b.remaining();
            }
            long n;
            if (count == 1) {
                NetContext.Chunk c = (NetContext.Chunk) head;
                n = LibC.send(fd, c.address + c.buffer.position(), total, LibC.MSG_NOSIGNAL);
            } else {
                ctx.iovCount(count);
                n = LibC.sendmsg(fd, ctx.msghdrAddress, LibC.MSG_NOSIGNAL);
            }
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return false;
                }
                if (err == Errno.EINTR) {
                    continue;
                }
                throw new EpollException((count == 1 ? "send" : "sendmsg") + "(fd=" + fd + ", " + total + " bytes)",
                        err);
            }
            consume(n);
            if (n < total) {
                return false;
            }
        }
        return true;
    }

    private void consume(long n) {
        bytes -= n;
        while (n > 0) {
            NetContext.Chunk c = (NetContext.Chunk) entries.peekFirst();
            ByteBuffer b = c.buffer;
            int take = (int) Math.min(n, b.remaining());
            b.position(b.position() + take);
            n -= take;
            if (!b.hasRemaining()) {
                entries.pollFirst();
                if (c == tail) {
                    tail = null;
                }
                ctx.releaseChunk(c);
            }
        }
    }

    private boolean sendRegion(int fd, FileRegion r) throws IOException {
        while (r.remaining > 0) {
            long n;
            if (r.fd >= 0) {
                ctx.offset(r.position);
                n = LibC.sendfile(fd, r.fd, ctx.offsetAddress, Math.min(r.remaining, 1L << 30));
                if (n == 0) {
                    throw new EpollException("sendfile(fd=" + fd + "): file ended " + r.remaining
                            + " bytes before the requested region", Errno.EIO);
                }
            } else {
                if (r.window == null || !r.window.hasRemaining()) {
                    long len = Math.min(r.remaining, MAP_WINDOW);
                    // A mapping past the end of the file would send zeros (or fault): check the size first.
                    long size = r.channel.size();
                    if (r.position + len > size) {
                        throw new EpollException("sendFile(fd=" + fd + "): file is " + size + " bytes, region ends at "
                                + (r.position + r.remaining), Errno.EIO);
                    }
                    r.window = r.channel.map(FileChannel.MapMode.READ_ONLY, r.position, len);
                    r.windowAddress = NativeMemory.address(r.window);
                }
                n = LibC.send(fd, r.windowAddress + r.window.position(), r.window.remaining(), LibC.MSG_NOSIGNAL);
                if (n > 0) {
                    r.window.position(r.window.position() + (int) n);
                }
            }
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return false;
                }
                if (err != Errno.EINTR) {
                    throw new EpollException((r.fd >= 0 ? "sendfile" : "send") + "(fd=" + fd + ")", err);
                }
                continue;
            }
            r.position += n;
            r.remaining -= n;
            bytes -= n;
        }
        return true;
    }

    /** Drops everything queued (the connection closed). */
    void clear() {
        for (Object e : entries) {
            if (e instanceof NetContext.Chunk c) {
                ctx.releaseChunk(c);
            } else {
                ((FileRegion) e).release();
            }
        }
        entries.clear();
        tail = null;
        bytes = 0;
    }

    private static final class FileRegion {
        final int fd;
        final FileChannel channel;
        long position;
        long remaining;
        MappedByteBuffer window;
        long windowAddress;

        FileRegion(int fd, FileChannel channel, long position, long count) {
            this.fd = fd;
            this.channel = channel;
            this.position = position;
            this.remaining = count;
        }

        void release() {
            if (fd >= 0) {
                LibC.close(fd);
            }
            window = null;
        }
    }
}
