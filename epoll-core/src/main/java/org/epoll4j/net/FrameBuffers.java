package org.epoll4j.net;

import java.nio.ByteBuffer;

/** The growing buffer both decoders keep an unfinished frame in. */
final class FrameBuffers {
    private FrameBuffers() {
    }

    /**
     * Appends {@code data[from, from+n)} to {@code buf} (write mode), first moving it to a bigger buffer if it
     * lacks room: twice the size, or what is needed if more, but never over {@code limit}, so what is held follows
     * what arrived rather than what the peer announced.
     *
     * @return {@code buf}, or the bigger buffer that replaced it
     */
    static ByteBuffer append(ByteBuffer buf, ByteBuffer data, int from, int n, int limit) {
        int have = buf.position();
        if (buf.remaining() < n) {
            int cap = (int) Math.min(limit, Math.max((long) have + n, 2L * buf.capacity()));
            buf = ByteBuffer.allocate(cap).put(buf.flip());
        }
        buf.put(have, data, from, n);
        buf.position(have + n);
        return buf;
    }
}
