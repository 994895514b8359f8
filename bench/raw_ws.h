// RawWs: a minimal blocking WebSocket client (RFC 6455) on a POSIX socket,
// for benchmarks that need one thread reading a connection while another
// writes to it. kiln::testing::WsClient (src/server/testing/client.h) is one
// thread per client, and its Receive() timeout closes the socket, so it cannot
// serve a reader thread plus a paced sender. Text frames only, no extensions;
// server frames may be fragmented (continuations are joined).
//
// Ownership: owns its socket. Thread-safety: SendText and Shutdown may be
// called from any thread (sends are serialised by a mutex); Read from one
// thread at a time.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

namespace kiln::bench {

class RawWs {
 public:
  ~RawWs() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects to 127.0.0.1:port and completes the opening handshake on `path`.
  static Result<std::unique_ptr<RawWs>> Connect(uint16_t port, const std::string& path) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return IOError("socket: " + std::string(std::strerror(errno)));
    std::unique_ptr<RawWs> ws(new RawWs(fd));
    // Browsers send without Nagle's delay; so do we, so that the figures are
    // the server's.
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      return IOError("connect: " + std::string(std::strerror(errno)));
    }
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: a2lsbi1iZW5jaC1rZXkxMg==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
    KILN_RETURN_IF_ERROR(ws->WriteAll(request));
    // The response head; bytes after it are the first frames.
    size_t end;
    while ((end = ws->in_.find("\r\n\r\n")) == std::string::npos) {
      if (!ws->Fill()) return IOError("connection closed during the handshake");
    }
    if (ws->in_.compare(0, 12, "HTTP/1.1 101") != 0) {
      return IOError("handshake refused: " + ws->in_.substr(0, ws->in_.find("\r\n")));
    }
    ws->in_.erase(0, end + 4);
    return ws;
  }

  // Sends one text message (masked, as a client must).
  Status SendText(std::string_view text) {
    std::string frame;
    frame.reserve(text.size() + 14);
    frame.push_back(char(0x81));  // FIN, text
    size_t n = text.size();
    if (n < 126) {
      frame.push_back(char(0x80 | n));
    } else if (n < 65536) {
      frame.push_back(char(0x80 | 126));
      frame.push_back(char(n >> 8));
      frame.push_back(char(n & 0xff));
    } else {
      frame.push_back(char(0x80 | 127));
      for (int i = 7; i >= 0; --i) frame.push_back(char((uint64_t(n) >> (8 * i)) & 0xff));
    }
    std::lock_guard lock(send_mu_);
    uint32_t key = (mask_seed_ = mask_seed_ * 1664525u + 1013904223u);
    char mask[4] = {char(key >> 24), char(key >> 16), char(key >> 8), char(key)};
    frame.append(mask, 4);
    for (size_t i = 0; i < n; ++i) frame.push_back(char(text[i] ^ mask[i & 3]));
    return WriteAll(frame);
  }

  // The next text message; false when the connection closed or failed.
  bool Read(std::string* message) {
    message->clear();
    for (;;) {
      // Frames are parsed in place from pos_; consumed bytes are dropped in
      // bulk (in Fill), not per frame.
      auto avail = [&] { return in_.size() - pos_; };
      auto at = [&](size_t i) { return uint8_t(in_[pos_ + i]); };
      while (avail() < 2) {
        if (!Fill()) return false;
      }
      uint8_t b0 = at(0), b1 = at(1);
      size_t header = 2;
      uint64_t len = b1 & 0x7f;
      if (len == 126) header = 4;
      if (len == 127) header = 10;
      if (b1 & 0x80) header += 4;  // servers do not mask, but tolerate it
      while (avail() < header) {
        if (!Fill()) return false;
      }
      if (len == 126) len = (uint64_t(at(2)) << 8) | at(3);
      if (len == 127) {
        len = 0;
        for (size_t i = 0; i < 8; ++i) len = (len << 8) | at(2 + i);
      }
      while (avail() < header + len) {
        if (!Fill()) return false;
      }
      int opcode = b0 & 0x0f;
      bool fin = b0 & 0x80;
      std::string_view payload(in_.data() + pos_ + header, len);
      pos_ += header + len;
      if (opcode == 0x8) return false;  // close
      if (opcode == 0x9) {              // ping: answer, keep reading
        SendControl(0xA, std::string(payload));
        continue;
      }
      if (opcode == 0x0 || opcode == 0x1 || opcode == 0x2) message->append(payload);
      if (opcode != 0xA && fin) return true;
    }
  }

  // Ends the connection now; a blocked Read returns false.
  void Shutdown() { ::shutdown(fd_, SHUT_RDWR); }

 private:
  explicit RawWs(int fd) : fd_(fd) {}

  Status WriteAll(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IOError("send: " + std::string(std::strerror(errno)));
      }
      bytes.remove_prefix(size_t(n));
    }
    return Status::Ok();
  }
  void SendControl(int opcode, const std::string& payload) {
    std::string frame;
    frame.push_back(char(0x80 | opcode));
    frame.push_back(char(0x80 | (payload.size() & 0x7f)));
    frame.append(4, '\0');  // a zero mask leaves the payload as is
    frame.append(payload);
    std::lock_guard lock(send_mu_);
    (void)WriteAll(frame);
  }
  // Reads more bytes into the buffer; false on end of stream or error.
  bool Fill() {
    if (pos_ == in_.size()) {
      in_.clear();
      pos_ = 0;
    } else if (pos_ > (256 << 10)) {
      in_.erase(0, pos_);
      pos_ = 0;
    }
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, size_t(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  }
  int fd_;
  std::string in_;
  size_t pos_ = 0;  // where the next unread frame starts in in_
  std::mutex send_mu_;
  uint32_t mask_seed_ = 0x6b696c6e;
};

}  // namespace kiln::bench
