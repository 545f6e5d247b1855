package org.epoll4j.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code echo --udp}: datagrams come back to their sender, from two reactors on one port. */
@Timeout(120)
class UdpEchoTest {
    @Test
    void echoesDatagramsOnEveryReactor() throws Exception {
        EchoServer echo = new EchoServer();
        CountDownLatch stop = new CountDownLatch(1);
        echo.stop = stop;
        ServerUnderTest s = ServerUnderTest.start(echo, stop, "--udp", "--batch", "8", "--port", "0", "--reactors", "2");
        try {
            int port = s.port();
            assertTrue(s.output().contains("(udp)"), s.output());
            for (int c = 0; c < 6; c++) {
                try (DatagramSocket client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                    client.setSoTimeout(30_000);
                    for (int i = 0; i < 20; i++) {
                        byte[] p = ("client " + c + " datagram " + i).getBytes(StandardCharsets.US_ASCII);
                        client.send(new DatagramPacket(p, p.length, InetAddress.getByName("127.0.0.1"), port));
                        DatagramPacket in = new DatagramPacket(new byte[256], 256);
                        client.receive(in);
                        assertArrayEquals(p, Arrays.copyOf(in.getData(), in.getLength()));
                    }
                }
            }
        } finally {
            s.requestStop();
            assertEquals(0, s.awaitExit());
        }
        assertTrue(s.output().contains("echo: stopped; 120 datagrams"), s.output());
    }

    @Test
    void aBadBatchIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"echo", "--udp", "--batch", "0"}, new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err));
        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--batch must be 1..1024"), err.toString());
    }
}
