package org.epoll4j.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * What a decoder holds for an unfinished frame is bounded by what actually arrived, not by what the peer declared:
 * a 4-byte header announcing a huge frame must not cost the huge buffer up front.
 */
@Timeout(30)
class DecoderMemoryTest {

    @Test
    void aDeclaredLengthCostsNothingUntilTheBytesArrive() throws Exception {
        LengthFieldDecoder d = new LengthFieldDecoder(Integer.MAX_VALUE);
        List<ByteBuffer> frames = new ArrayList<>();
        // a header declaring 1 GiB, then 10 bytes of it
        d.decode(null, ByteBuffer.wrap(new byte[] {0x40, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), (c, f) -> {
            frames.add(f);
        });
        assertEquals(List.of(), frames);
        assertEquals(14, d.pending());
        assertTrue(d.bufferCapacity() <= 64 * 1024, () -> "holds " + d.bufferCapacity() + " bytes for 10 received");
        d.release();
        assertEquals(0, d.bufferCapacity());
    }

    @Test
    void theBufferGrowsWithTheBytesAndTheFrameIsIntact() throws Exception {
        long seed = 99L;
        System.out.println("theBufferGrowsWithTheBytesAndTheFrameIsIntact seed=" + seed);
        Random r = new Random(seed);
        byte[] payload = new byte[3_000_000];
        r.nextBytes(payload);
        ByteBuffer stream = LengthFieldDecoder.frame(ByteBuffer.wrap(payload));
        LengthFieldDecoder d = new LengthFieldDecoder(payload.length);
        List<byte[]> frames = new ArrayList<>();
        while (stream.hasRemaining()) {
            int n = Math.min(stream.remaining(), 1 + r.nextInt(70_000));
            ByteBuffer piece = stream.slice(stream.position(), n);
            stream.position(stream.position() + n);
            d.decode(null, piece, (c, f) -> {
                byte[] b = new byte[f.remaining()];
                f.get(b);
                frames.add(b);
            });
            if (frames.isEmpty()) {
                long received = stream.position() - LengthFieldDecoder.HEADER_LENGTH;
                assertTrue(d.bufferCapacity() <= Math.max(64 * 1024, 2 * received),
                        () -> "holds " + d.bufferCapacity() + " bytes for " + received + " received");
            }
        }
        assertEquals(1, frames.size());
        assertArrayEquals(payload, frames.get(0));
        assertEquals(0, d.pending());
    }

    /** LineDecoder already grows its tail with what arrives (checked here so it stays that way). */
    @Test
    void aLongLimitCostsALineDecoderNothingUpFront() throws Exception {
        LineDecoder d = new LineDecoder(Integer.MAX_VALUE - 1);
        d.decode(null, ByteBuffer.wrap(new byte[] {'a', 'b', 'c'}), (c, f) -> fail("no line yet"));
        assertEquals(3, d.pending());
        assertTrue(d.bufferCapacity() <= 64 * 1024, () -> "holds " + d.bufferCapacity() + " bytes for 3 received");
    }
}
