package org.epoll4j.net;

import org.epoll4j.Reactor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Child process of {@link EmfileRecoveryTest}: an echo server run under a low fd limit. Prints {@code port P}, then
 * answers {@code stats} on stdin with {@code stats rejected=R active=A accepted=X}; {@code quit} (or EOF) ends it.
 */
public final class EmfileServerMain {
    private EmfileServerMain() {
    }

    public static void main(String[] args) throws Exception {
        Reactor reactor = Reactor.builder().name("emfile-server")
                .errorHandler((reg, t) -> {
                    StringBuilder sb = new StringBuilder("handler failed: " + reg);
                    for (Throwable c = t; c != null; c = c.getCause()) {
                        sb.append(" | ").append(c);
                        for (StackTraceElement e : c.getStackTrace()) {
                            sb.append(" @ ").append(e);
                        }
                    }
                    System.err.println(sb);
                })
                .build();
        reactor.start();
        TcpServer server = TcpServer.builder(reactor).handler((c, data) -> c.write(data)).start();
        System.out.println("port " + server.port());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null && !line.equals("quit")) {
            if (line.equals("stats")) {
                String s = CompletableFuture.supplyAsync(() -> "stats rejected=" + server.rejectedCount()
                        + " active=" + server.activeConnections() + " accepted=" + server.acceptedCount(), reactor)
                        .get(10, TimeUnit.SECONDS);
                System.out.println(s);
            }
        }
        reactor.close();
    }
}
