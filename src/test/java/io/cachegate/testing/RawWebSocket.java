package io.cachegate.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket opened by hand on a plain socket, for what a client library hides: the exact handshake
 * headers (a browser's extension offer), and a peer that reads but never answers a ping. Bounded:
 * every read times out after 10 s.
 */
public final class RawWebSocket implements AutoCloseable {

  public final Socket socket;
  /** The handshake answer's status line and headers. */
  public final String head;

  private RawWebSocket(Socket socket, String head) {
    this.socket = socket;
    this.head = head;
  }

  /** Sends the upgrade for {@code /v1/stream} with {@code extraHeaders} (each ending in CRLF) and reads the answer's head. */
  public static RawWebSocket open(int port, String extraHeaders) throws IOException {
    Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(10_000);
    socket.getOutputStream().write(("GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + extraHeaders + "\r\n").getBytes(StandardCharsets.US_ASCII));
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = socket.getInputStream().read();
      if (b < 0) break; // the server closed: the head so far is the answer
      head.append((char) b);
    }
    return new RawWebSocket(socket, head.toString());
  }

  /** Reads server frames (unmasked) until a close frame; its status code, 1005 when it has none. */
  public int closeCode() throws IOException {
    var in = new java.io.DataInputStream(socket.getInputStream());
    while (true) {
      int opcode = in.readUnsignedByte() & 0x0f;
      int len = in.readUnsignedByte() & 0x7f;
      if (len == 126) len = in.readUnsignedShort();
      else if (len == 127) len = (int) in.readLong();
      byte[] payload = in.readNBytes(len);
      if (opcode == 0x8) return len >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
