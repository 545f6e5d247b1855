package org.epoll4j.net;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.quicktheories.core.Gen;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.epoll4j.testutil.Pbt.qt;
import static org.epoll4j.testutil.Pbt.randomBytes;
import static org.epoll4j.testutil.Pbt.run;
import static org.epoll4j.testutil.Pbt.showingBytes;
import static org.junit.jupiter.api.Assertions.*;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.longs;

/** Decoders fed directly: random frames cut at random chunk boundaries arrive intact and in order. */
@ExtendWith(FdLeakCheck.class)
class FramingPropertiesTest {
    private static final int MAX_LINE = 300;

    /** Decoders in memory: cheap examples, cheap shrinking. */
    private static final int SHRINK_CYCLES = 10_000;

    /** Up to 40 lines of any bytes but '\n'; a trailing '\r' would be stripped, so lines never end in one. */
    static Gen<List<byte[]>> lines() {
        Gen<byte[]> line = randomBytes(0, MAX_LINE).map(a -> {
            for (int i = 0; i < a.length; i++) {
                if (a[i] == '\n') {
                    a[i] = 'n';
                }
            }
            if (a.length > 0 && a[a.length - 1] == '\r') {
                a[a.length - 1] = 'r';
            }
            return a;
        });
        return showingBytes(lists().of(line).ofSizeBetween(0, 40));
    }

    /** Up to {@code count} payloads of up to 3000 bytes. */
    static Gen<List<byte[]>> payloads(int count) {
        return showingBytes(lists().of(randomBytes(0, 3000)).ofSizeBetween(0, count));
    }

    /** Splits {@code stream} into chunks at boundaries chosen by {@code seed}; heap or direct, at random offsets. */
    static List<ByteBuffer> chunks(byte[] stream, long seed, int maxChunk) {
        Random r = new Random(seed);
        List<ByteBuffer> out = new ArrayList<>();
        int pos = 0;
        while (pos < stream.length) {
            int n = Math.min(stream.length - pos, 1 + r.nextInt(maxChunk));
            int pad = r.nextInt(4);
            ByteBuffer b = r.nextBoolean() ? ByteBuffer.allocate(n + 2 * pad) : ByteBuffer.allocateDirect(n + 2 * pad);
            b.position(pad).put(stream, pos, n).flip().position(pad);
            out.add(b);
            pos += n;
        }
        return out;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    @Test
    @Timeout(120)
    void linesSurviveAnyChunking() {
        qt(300, SHRINK_CYCLES).forAll(lines(), booleans().all(), longs().all(), integers().between(1, 700))
                .checkAssert((lines, crlf, seed, maxChunk) -> run(() -> linesSurviveAnyChunking(lines, crlf, seed,
                        maxChunk)));
    }

    private static void linesSurviveAnyChunking(List<byte[]> lines, boolean crlf, long seed, int maxChunk)
            throws Exception {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (byte[] l : lines) {
            stream.writeBytes(l);
            stream.writeBytes(crlf ? new byte[] {'\r', '\n'} : new byte[] {'\n'});
        }
        LineDecoder d = new LineDecoder(MAX_LINE);
        List<byte[]> got = new ArrayList<>();
        for (ByteBuffer chunk : chunks(stream.toByteArray(), seed, maxChunk)) {
            int end = chunk.limit();
            d.decode(null, chunk, (c, line) -> got.add(bytes(line)));
            assertEquals(end, chunk.position(), "chunk consumed");
            assertEquals(end, chunk.limit(), "limit restored");
        }
        assertEquals(lines.size(), got.size());
        for (int i = 0; i < lines.size(); i++) {
            assertArrayEquals(lines.get(i), got.get(i), "line " + i);
        }
        assertEquals(0, d.pending(), "nothing held once every line is complete");
    }

    @Test
    @Timeout(120)
    void anOverlongLineFailsNamingTheLimit() {
        qt(200, SHRINK_CYCLES)
                .forAll(integers().between(1, 200), integers().between(1, 50), longs().all(), integers().between(1, 64))
                .checkAssert(FramingPropertiesTest::anOverlongLineFailsNamingTheLimit);
    }

    private static void anOverlongLineFailsNamingTheLimit(int max, int over, long seed, int maxChunk) {
        byte[] stream = new byte[max + over + 1];
        Arrays.fill(stream, (byte) 'x');
        stream[stream.length - 1] = '\n';
        LineDecoder d = new LineDecoder(max);
        FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> {
            for (ByteBuffer chunk : chunks(stream, seed, maxChunk)) {
                d.decode(null, chunk, (c, line) -> fail("no line expected, got " + line.remaining() + " bytes"));
            }
        });
        assertEquals(max, e.limit());
        assertTrue(e.getMessage().contains("limit of " + max + " bytes"), e.getMessage());
        assertTrue(d.pending() <= max + 1, "never buffers beyond the limit");
    }

    @Test
    void lineOfExactlyTheLimitPassesEvenWithCrSplitOff() throws Exception {
        LineDecoder d = new LineDecoder(3);
        List<String> got = new ArrayList<>();
        FrameListener<ByteBuffer> l = (c, b) -> got.add(StandardCharsets.US_ASCII.decode(b).toString());
        d.decode(null, ByteBuffer.wrap("abc\r".getBytes(StandardCharsets.US_ASCII)), l);
        assertEquals(4, d.pending());
        d.decode(null, ByteBuffer.wrap("\nde\n\n".getBytes(StandardCharsets.US_ASCII)), l);
        assertEquals(List.of("abc", "de", ""), got);
        assertEquals(0, d.pending());
        assertThrows(FrameTooLongException.class,
                () -> d.decode(null, ByteBuffer.wrap("abcd".getBytes(StandardCharsets.US_ASCII)), l));
        assertThrows(IllegalArgumentException.class, () -> new LineDecoder(0));
    }

    @Test
    void aWholeLineIsAViewOfTheReadBufferNotACopy() throws Exception {
        ByteBuffer data = ByteBuffer.wrap("one\ntwo\nthr".getBytes(StandardCharsets.US_ASCII));
        LineDecoder d = new LineDecoder(100);
        List<ByteBuffer> seen = new ArrayList<>();
        d.decode(null, data, (c, line) -> seen.add(line));
        assertEquals(2, seen.size());
        assertSame(data, seen.get(0), "whole lines are handed over in place");
        assertEquals(3, d.pending(), "only the tail was copied");
    }

    @Test
    @Timeout(120)
    void lengthFramesSurviveAnyChunking() {
        qt(300, SHRINK_CYCLES).forAll(payloads(30), longs().all(), integers().between(1, 5000))
                .checkAssert((payloads, seed, maxChunk) -> run(() -> lengthFramesSurviveAnyChunking(payloads, seed,
                        maxChunk)));
    }

    private static void lengthFramesSurviveAnyChunking(List<byte[]> payloads, long seed, int maxChunk)
            throws Exception {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (byte[] p : payloads) {
            ByteBuffer f = LengthFieldDecoder.frame(ByteBuffer.wrap(p));
            assertEquals(4 + p.length, f.remaining());
            stream.writeBytes(bytes(f));
        }
        LengthFieldDecoder d = new LengthFieldDecoder(3000);
        List<byte[]> got = new ArrayList<>();
        for (ByteBuffer chunk : chunks(stream.toByteArray(), seed, maxChunk)) {
            int end = chunk.limit();
            d.decode(null, chunk, (c, frame) -> got.add(bytes(frame)));
            assertEquals(end, chunk.position());
        }
        assertEquals(payloads.size(), got.size());
        for (int i = 0; i < payloads.size(); i++) {
            assertArrayEquals(payloads.get(i), got.get(i), "frame " + i);
        }
        assertEquals(0, d.pending());
    }

    @Test
    @Timeout(120)
    void anOverlongLengthFailsBeforeBuffering() {
        qt(100, SHRINK_CYCLES)
                .forAll(integers().between(0, 1000), integers().between(1, Integer.MAX_VALUE), longs().all())
                .checkAssert(FramingPropertiesTest::anOverlongLengthFailsBeforeBuffering);
    }

    private static void anOverlongLengthFailsBeforeBuffering(int max, int over, long seed) {
        long len = (long) max + over;
        byte[] stream = {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len, 1, 2, 3};
        LengthFieldDecoder d = new LengthFieldDecoder(max);
        FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> {
            for (ByteBuffer chunk : chunks(stream, seed, 3)) {
                d.decode(null, chunk, (c, f) -> fail("no frame expected"));
            }
        });
        assertEquals(max, e.limit());
        assertTrue(e.getMessage().contains("limit of " + max + " bytes"), e.getMessage());
        assertEquals(0, d.pending());
    }

    @Test
    void lengthPrefixIsBigEndianAndUnsigned() {
        ByteBuffer f = LengthFieldDecoder.frame(ByteBuffer.wrap(new byte[300]));
        assertEquals(0, f.get(0));
        assertEquals(0, f.get(1));
        assertEquals(1, f.get(2));
        assertEquals(44, f.get(3));
        LengthFieldDecoder d = new LengthFieldDecoder(Integer.MAX_VALUE);
        ByteBuffer huge = ByteBuffer.wrap(new byte[] {(byte) 0xff, 0, 0, 0});
        FrameTooLongException e = assertThrows(FrameTooLongException.class, () -> d.decode(null, huge, (c, x) -> { }));
        assertTrue(e.getMessage().contains("4278190080"), e.getMessage());
    }
}
