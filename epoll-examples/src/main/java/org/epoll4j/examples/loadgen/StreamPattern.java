package org.epoll4j.examples.loadgen;

import java.nio.ByteBuffer;

/**
 * The bytes every load connection sends: a fixed pseudo-random sequence with a long period, each connection
 * starting at its own offset. Byte {@code n} of connection {@code id}'s stream is {@code BYTES[(start(id) + n) %
 * PERIOD]}, so any window of up to {@link #CHUNK} bytes is one contiguous slice of {@link #BYTES}: sending and
 * checking need no per-message buffer, and a dropped, duplicated, reordered or altered byte shows up as a mismatch
 * (the period is prime, so a message-sized shift does not line the stream up with itself again).
 */
final class StreamPattern {
    /** Length of the repeating sequence: a prime, so no message size divides it. */
    static final int PERIOD = 65_521;
    /** The longest slice {@link #slice} hands out. */
    static final int CHUNK = 64 * 1024;
    /** {@code PERIOD} bytes, then the first {@code CHUNK} again, so every slice is contiguous. */
    private static final byte[] BYTES = new byte[PERIOD + CHUNK];

    static {
        long x = 0x2545F4914F6CDD1DL;
        for (int i = 0; i < PERIOD; i++) {
            x ^= x << 13; // xorshift64: cheap and without short cycles
            x ^= x >>> 7;
            x ^= x << 17;
            BYTES[i] = (byte) (x >>> 32);
        }
        for (int i = PERIOD; i < BYTES.length; i++) {
            BYTES[i] = BYTES[i - PERIOD]; // CHUNK > PERIOD: the tail repeats itself, so copy byte by byte
        }
    }

    private StreamPattern() {
    }

    /** Where connection {@code id}'s stream starts in the sequence. */
    static int start(int id) {
        return (int) ((id * 7_919L) % PERIOD);
    }

    /** A view of the whole array for one connection to position with {@link #slice}. */
    static ByteBuffer view() {
        return ByteBuffer.wrap(BYTES).asReadOnlyBuffer();
    }

    /**
     * Positions {@code view} on the {@code length} bytes of a stream from stream position {@code streamPos}.
     *
     * @param view      a buffer from {@link #view()}
     * @param start     the connection's {@link #start}
     * @param streamPos the stream position of the first byte
     * @param length    at most {@link #CHUNK}
     * @return {@code view}
     */
    static ByteBuffer slice(ByteBuffer view, int start, long streamPos, int length) {
        int off = (int) ((start + streamPos) % PERIOD);
        view.limit(off + length).position(off);
        return view;
    }

    /** The expected byte at stream position {@code streamPos}, for error messages. */
    static byte at(int start, long streamPos) {
        return BYTES[(int) ((start + streamPos) % PERIOD)];
    }
}
