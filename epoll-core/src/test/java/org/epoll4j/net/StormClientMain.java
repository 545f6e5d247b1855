package org.epoll4j.net;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Child process of {@link TenThousandConnectionsTest}: opens N connections to 127.0.0.1:PORT, echoes "ping" on
 * each, prints {@code ready N}, then waits for {@code close} on stdin, closes them all and prints {@code closed}.
 * Runs in its own process so that client and server sockets do not share one fd limit.
 */
public final class StormClientMain {
    private StormClientMain() {
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        int n = Integer.parseInt(args[1]);
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
        List<SocketChannel> channels = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            SocketChannel ch = SocketChannel.open(to);
            channels.add(ch);
            ch.write(ByteBuffer.wrap(new byte[] {'p', 'i', 'n', 'g'}));
        }
        ByteBuffer buf = ByteBuffer.allocate(4);
        for (SocketChannel ch : channels) {
            buf.clear();
            while (buf.hasRemaining()) {
                if (ch.read(buf) < 0) {
                    System.out.println("error: EOF before echo");
                    System.exit(1);
                }
            }
            if (!new String(buf.array(), 0, 4).equals("ping")) {
                System.out.println("error: bad echo");
                System.exit(1);
            }
        }
        System.out.println("ready " + channels.size());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null && !line.equals("close")) {
            // wait for the command
        }
        for (SocketChannel ch : channels) {
            ch.close();
        }
        System.out.println("closed");
        System.out.flush();
        while (in.readLine() != null) {
            // exit only once the parent closes our stdin: it has read "closed" by then
        }
    }
}
