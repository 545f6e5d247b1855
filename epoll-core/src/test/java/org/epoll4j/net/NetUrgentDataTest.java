package org.epoll4j.net;

import org.epoll4j.TriggerMode;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Urgent data (MSG_OOB) makes a read stop short at the urgent mark with ordinary bytes still behind it. Under EDGE
 * that short read must not be taken for "drained": every ordinary byte arrives.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetUrgentDataTest {

    @ParameterizedTest
    @EnumSource(TriggerMode.class)
    void ordinaryBytesAfterTheUrgentMarkArrive(TriggerMode mode) throws Exception {
        String before = "abc";
        String after = "defg";
        CompletableFuture<String> got = new CompletableFuture<>();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        Tracking handler = new Tracking() {
            @Override
            public void onData(Connection c, ByteBuffer data) {
                while (data.hasRemaining()) {
                    received.write(data.get());
                }
                if (received.size() >= before.length() + after.length()) {
                    got.complete(received.toString(StandardCharsets.US_ASCII));
                }
            }
        };
        try (Loop loop = Loop.start("oob-" + mode)) {
            TcpServer server = TcpServer.builder(loop.reactor)
                    .config(ConnectionConfig.defaults().withTrigger(mode)).handler(handler).start();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", server.port()));
                s.setTcpNoDelay(true);
                handler.nextOpen();
                // hold the loop so that the bytes, the urgent byte and the bytes after it are all waiting at once
                CountDownLatch held = new CountDownLatch(1);
                CountDownLatch release = new CountDownLatch(1);
                loop.reactor.execute(() -> {
                    held.countDown();
                    try {
                        release.await(WAIT_SECONDS, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                try {
                    assertTrue(held.await(WAIT_SECONDS, TimeUnit.SECONDS));
                    OutputStream out = s.getOutputStream();
                    out.write(before.getBytes(StandardCharsets.US_ASCII));
                    s.sendUrgentData('X'); // send(..., MSG_OOB)
                    out.write(after.getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    // wait until the kernel holds all of it: /proc/net/tcp's rx_queue counts every byte received and
                    // not yet read, the urgent one included (FIONREAD stops at the urgent mark)
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
                    int total = before.length() + 1 + after.length();
                    while (rxQueue(server.port(), s.getLocalPort()) < total) {
                        assertTrue(System.nanoTime() < deadline, "bytes did not arrive");
                        Thread.onSpinWait();
                    }
                } finally {
                    release.countDown();
                }
                assertEquals(before + after, got.get(10, TimeUnit.SECONDS), "every ordinary byte");
            }
            handler.nextClose();
            server.close();
        }
    }

    /** The receive queue of the IPv4 loopback socket {@code localPort -> remotePort}, from /proc/net/tcp. */
    private static long rxQueue(int localPort, int remotePort) throws java.io.IOException {
        String local = String.format(":%04X", localPort);
        String remote = String.format(":%04X", remotePort);
        for (String line : Files.readAllLines(Path.of("/proc/net/tcp"))) {
            String[] f = line.trim().split("\\s+");
            if (f.length > 4 && f[1].endsWith(local) && f[2].endsWith(remote)) {
                return Long.parseLong(f[4].substring(f[4].indexOf(':') + 1), 16);
            }
        }
        return -1;
    }
}
