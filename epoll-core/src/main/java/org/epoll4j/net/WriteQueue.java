package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.ArrayDeque;

/**
 * Bytes a connection could not send at once: pooled direct chunks, flushed with one gathering sendmsg, file
 * regions, sent with sendfile(2) (from a path) or read into the reactor's bounce buffer and sent (from a
 * FileChannel), and file descriptors to pass (SCM_RIGHTS), which go with the first byte of the chunks behind them.
 * A flush makes at most a budget of write calls. Loop-thread only.
 */
final class WriteQueue {
    static final int DRAINED = 0;
    static final int FULL = 1;
    static final int YIELDED = 2;

    private final NetContext ctx;
    /** Small at first: most connections never queue, and an idle one should cost little (it grows as needed). */
    private final ArrayDeque<Object> entries = new ArrayDeque<>(2);
    private NetContext.Chunk tail;
    /** Volatile for Connection.queuedBytes() from other threads; only the loop thread writes it. */
    private volatile long bytes;
    /** Write calls in the current flush, and the most in any flush so far (for tests). */
    private int calls;
    int maxCalls;
    /** Sends made with MSG_MORE because a file region followed (for tests). */
    long moreSends;

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
     * Queues {@code src}'s remaining bytes (at least one) with {@code fds} attached to the first of them. The fds are
     * the queue's from here on: closed once sent, or by {@link #clear()}.
     */
    void addWithRights(ByteBuffer src, int[] fds) {
        entries.addLast(new Rights(fds));
        tail = null; // the message's bytes start a chunk of their own, right behind the marker
        add(src);
    }

    /**
     * Sends as much as the socket takes, in at most {@code budget} write calls.
     *
     * @return {@link #DRAINED}, {@link #FULL} (the socket took less than offered) or {@link #YIELDED} (budget spent)
     * @throws EpollException on a send error (EPIPE, ECONNRESET ...)
     * @throws IOException    reading a queued FileChannel failed
     */
    int flush(int fd, int budget) throws IOException {
        calls = 0;
        try {
            return flush0(fd, budget);
        } finally {
            maxCalls = Math.max(maxCalls, calls);
        }
    }

    private int flush0(int fd, int budget) throws IOException {
        while (!entries.isEmpty()) {
            if (calls == budget) {
                return YIELDED;
            }
            Object head = entries.peekFirst();
            if (head instanceof FileRegion region) {
                int r = sendRegion(fd, region, budget);
                if (r != DRAINED) {
                    return r;
                }
                entries.pollFirst();
                region.release();
                continue;
            }
            if (head instanceof Rights rights) {
                int r = sendRights(fd, rights);
                if (r != DRAINED) {
                    return r;
                }
                continue;
            }
            int count = 0;
            long total = 0;
            Object next = null;
            for (Object e : entries) {
                if (!(e instanceof NetContext.Chunk c) || count == NetContext.MAX_IOV) {
                    next = e;
                    break;
                }
                ByteBuffer b = c.buffer;
                ctx.iov(count++, c.address + b.position(), b.remaining());
                total += b.remaining();
            }
            int flags = LibC.MSG_NOSIGNAL;
            if (next instanceof FileRegion r && r.remaining > 0 && calls + 1 < budget) {
                // A response head in front of its file: MSG_MORE lets the kernel hold the head's partial segment
                // for the file's first bytes (one segment, and one wake-up of the peer, instead of two). Only when
                // this flush has a call left for the file, so that the held bytes never wait for a later event.
                flags |= LibC.MSG_MORE;
                moreSends++;
            }
            long n;
            calls++;
            if (count == 1) {
                NetContext.Chunk c = (NetContext.Chunk) head;
                n = LibC.send(fd, c.address + c.buffer.position(), total, flags);
            } else {
                ctx.iovCount(count);
                n = LibC.sendmsg(fd, ctx.msghdrAddress, flags);
            }
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return FULL;
                }
                if (err == Errno.EINTR) {
                    continue;
                }
                throw new EpollException((count == 1 ? "send" : "sendmsg") + "(fd=" + fd + ", " + total + " bytes)",
                        err);
            }
            consume(n);
            if (n < total) {
                return FULL;
            }
        }
        return DRAINED;
    }

    /**
     * Sends the chunks behind a {@link Rights} marker at the head with one sendmsg carrying its fds. Once the kernel
     * took any byte the fds went with the first one: the marker goes (its fds closed) and the rest of the bytes are
     * ordinary chunks.
     *
     * @return {@link #DRAINED} when the marker is gone and the socket took everything offered (go on), else
     *         {@link #FULL}
     */
    private int sendRights(int fd, Rights rights) throws EpollException {
        int count = 0;
        long total = 0;
        boolean first = true;
        for (Object e : entries) {
            if (first) {
                first = false;
                continue; // the marker itself
            }
            if (!(e instanceof NetContext.Chunk c) || count == NetContext.MAX_IOV) {
                break;
            }
            ByteBuffer b = c.buffer;
            ctx.iov(count++, c.address + b.position(), b.remaining());
            total += b.remaining();
        }
        while (true) {
            calls++;
            ctx.iovCount(count);
            ctx.rights(rights.fds);
            long n = LibC.sendmsg(fd, ctx.msghdrAddress, LibC.MSG_NOSIGNAL);
            ctx.noRights();
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return FULL;
                }
                if (err == Errno.EINTR) {
                    continue;
                }
                throw new EpollException("sendmsg(fd=" + fd + ", " + total + " bytes, SCM_RIGHTS with "
                        + rights.fds.length + " fds)", err);
            }
            entries.pollFirst();
            rights.release();
            consume(n);
            return n < total ? FULL : DRAINED;
        }
    }

    /** Write calls the last flush made. */
    int lastCalls() {
        return calls;
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

    private int sendRegion(int fd, FileRegion r, int budget) throws IOException {
        while (r.remaining > 0) {
            if (calls == budget) {
                return YIELDED;
            }
            long n;
            calls++;
            if (r.fd >= 0) {
                ctx.offset(r.position);
                n = LibC.sendfile(fd, r.fd, ctx.offsetAddress, Math.min(r.remaining, 1L << 30));
                if (n == 0) {
                    throw new EpollException("sendfile(fd=" + fd + "): file ended " + r.remaining
                            + " bytes before the requested region", Errno.EIO);
                }
            } else {
                // The JDK does not expose the channel's fd: pread into the shared bounce buffer and send from there.
                // No memory mapping (each mapping lives until GC and counts against vm.max_map_count); bytes the
                // socket does not take are simply read again next time (from the page cache).
                int len = (int) Math.min(r.remaining, ctx.bounce.capacity());
                ByteBuffer b = ctx.bounce.clear().limit(len);
                while (b.hasRemaining()) {
                    if (r.channel.read(b, r.position + b.position()) < 0) {
                        throw new EpollException("sendFile(fd=" + fd + "): file ended at " + (r.position + b.position())
                                + ", region ends at " + (r.position + r.remaining), Errno.EIO);
                    }
                }
                n = LibC.send(fd, ctx.bounceAddress, len, LibC.MSG_NOSIGNAL);
            }
            if (n < 0) {
                int err = LibC.errno();
                if (err == Errno.EAGAIN) {
                    return FULL;
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
        return DRAINED;
    }

    /** Drops everything queued (the connection closed). */
    void clear() {
        for (Object e : entries) {
            if (e instanceof NetContext.Chunk c) {
                ctx.releaseChunk(c);
            } else if (e instanceof Rights r) {
                r.release();
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
        }
    }

    /** File descriptors to pass with the first byte of the chunks right behind this marker: our dups, ours to close. */
    private static final class Rights {
        final int[] fds;

        Rights(int[] fds) {
            this.fds = fds;
        }

        void release() {
            for (int fd : fds) {
                LibC.close(fd);
            }
        }
    }
}
