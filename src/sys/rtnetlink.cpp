#include "sys/rtnetlink.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "crunlite/error.hpp"

namespace crunlite::sys {
namespace {

// A request: the netlink header, the family header (ifinfomsg, ifaddrmsg), then attributes,
// each padded to 4 bytes as the kernel parses them.
class Request {
public:
    template <typename FamilyHeader>
    Request(uint16_t type, uint16_t flags, const FamilyHeader& header) {
        nlmsghdr nl{};
        nl.nlmsg_type = type;
        nl.nlmsg_flags = uint16_t(NLM_F_REQUEST | flags);
        append(&nl, sizeof nl);
        append(&header, sizeof header);
    }
    void attribute(uint16_t type, const void* data, size_t size) {
        rtattr attr{};
        attr.rta_type = type;
        attr.rta_len = uint16_t(RTA_LENGTH(size));
        append(&attr, sizeof attr);
        append(data, size);
    }
    void attribute(uint16_t type, const std::string& text) { attribute(type, text.c_str(), text.size() + 1); }
    void attribute_u32(uint16_t type, uint32_t value) { attribute(type, &value, sizeof value); }
    std::vector<uint8_t>& bytes() {
        reinterpret_cast<nlmsghdr*>(bytes_.data())->nlmsg_len = uint32_t(bytes_.size());
        return bytes_;
    }

private:
    void append(const void* data, size_t size) {
        const auto* p = static_cast<const uint8_t*>(data);
        bytes_.insert(bytes_.end(), p, p + size);
        bytes_.resize(NLMSG_ALIGN(bytes_.size()), 0);
    }
    std::vector<uint8_t> bytes_;
};

// The attributes that follow a family header of `header_size` bytes in a reply's payload.
template <typename Fn>
void each_attribute(const std::vector<uint8_t>& payload, size_t header_size, Fn&& fn) {
    size_t offset = NLMSG_ALIGN(header_size);
    while (offset + sizeof(rtattr) <= payload.size()) {
        const auto* attr = reinterpret_cast<const rtattr*>(payload.data() + offset);
        if (attr->rta_len < sizeof(rtattr) || offset + attr->rta_len > payload.size()) break;
        const uint8_t* data = payload.data() + offset + RTA_LENGTH(0);
        fn(attr->rta_type, data, size_t(attr->rta_len - RTA_LENGTH(0)));
        offset += RTA_ALIGN(attr->rta_len);
    }
}

}  // namespace

RtNetlink::RtNetlink() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    if (!fd_) throw Error("open a NETLINK_ROUTE socket", errno);
}

RtNetlink RtNetlink::in_namespace(int netns_fd) {
    UniqueFd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!home) throw Error("open /proc/self/ns/net", errno);
    if (::setns(netns_fd, CLONE_NEWNET) != 0) throw Error("enter the container's network namespace", errno);
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    int socket_error = errno;
    if (::setns(home.get(), CLONE_NEWNET) != 0) throw Error("return to the runtime's network namespace", errno);
    if (!fd) throw Error("open a NETLINK_ROUTE socket in the container's network namespace", socket_error);
    return RtNetlink(std::move(fd));
}

std::vector<std::vector<uint8_t>> RtNetlink::exchange(std::vector<uint8_t>& message, const std::string& what) {
    auto* header = reinterpret_cast<nlmsghdr*>(message.data());
    header->nlmsg_seq = ++sequence_;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(fd_.get(), message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
        throw Error(what + ": netlink send", errno);
    std::vector<std::vector<uint8_t>> replies;
    std::vector<uint8_t> buffer(32768);
    for (;;) {
        ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(what + ": netlink receive", errno);
        size_t left = size_t(n);
        for (auto* reply = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(reply, left); reply = NLMSG_NEXT(reply, left)) {
            if (reply->nlmsg_seq != sequence_) continue;  // a late answer to an earlier request
            if (reply->nlmsg_type == NLMSG_DONE) return replies;
            if (reply->nlmsg_type == NLMSG_ERROR) {
                const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(reply));
                if (err->error != 0) throw Error(what, -err->error);
                return replies;  // the acknowledgement
            }
            const auto* data = static_cast<const uint8_t*>(NLMSG_DATA(reply));
            replies.emplace_back(data, data + NLMSG_PAYLOAD(reply, 0));
            if (!(reply->nlmsg_flags & NLM_F_MULTI) && !(header->nlmsg_flags & NLM_F_ACK)) return replies;
        }
    }
}

std::optional<int> RtNetlink::link_index(const std::string& name) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    Request request(RTM_GETLINK, 0, info);
    request.attribute(IFLA_IFNAME, name);
    try {
        auto replies = exchange(request.bytes(), "look up the network interface \"" + name + "\"");
        if (replies.empty() || replies.front().size() < sizeof(ifinfomsg)) return std::nullopt;
        return reinterpret_cast<const ifinfomsg*>(replies.front().data())->ifi_index;
    } catch (const Error& e) {
        if (e.error_number() == ENODEV) return std::nullopt;
        throw;
    }
}

std::vector<InterfaceAddress> RtNetlink::addresses(int index) {
    ifaddrmsg header{};
    header.ifa_family = AF_UNSPEC;
    Request request(RTM_GETADDR, NLM_F_DUMP, header);
    std::vector<InterfaceAddress> out;
    for (const auto& payload : exchange(request.bytes(), "list the addresses of interface " + std::to_string(index))) {
        if (payload.size() < sizeof(ifaddrmsg)) continue;
        const auto* ifa = reinterpret_cast<const ifaddrmsg*>(payload.data());
        if (int(ifa->ifa_index) != index) continue;
        InterfaceAddress address{ifa->ifa_family, ifa->ifa_prefixlen, ifa->ifa_scope, ifa->ifa_flags, {}, {}};
        std::vector<uint8_t> ifa_address;
        each_attribute(payload, sizeof(ifaddrmsg), [&](uint16_t type, const uint8_t* data, size_t size) {
            if (type == IFA_LOCAL) address.local.assign(data, data + size);
            else if (type == IFA_ADDRESS) ifa_address.assign(data, data + size);
            else if (type == IFA_FLAGS && size == sizeof(uint32_t)) memcpy(&address.flags, data, size);  // all 32 bits
        });
        if (address.local.empty()) address.local = ifa_address;
        else if (ifa_address != address.local) address.peer = ifa_address;
        out.push_back(std::move(address));
    }
    return out;
}

void RtNetlink::move_to_namespace(int index, const std::string& new_name, int netns_fd) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    Request request(RTM_NEWLINK, NLM_F_ACK, info);
    request.attribute(IFLA_IFNAME, new_name);
    request.attribute_u32(IFLA_NET_NS_FD, uint32_t(netns_fd));
    exchange(request.bytes(), "move the network interface into the container's network namespace as \"" + new_name + "\"");
}

void RtNetlink::add_address(int index, const InterfaceAddress& address) {
    ifaddrmsg header{};
    header.ifa_family = address.family;
    header.ifa_prefixlen = address.prefix_length;
    header.ifa_scope = address.scope;
    header.ifa_index = uint32_t(index);
    Request request(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, header);
    request.attribute(IFA_LOCAL, address.local.data(), address.local.size());
    const auto& remote = address.peer.empty() ? address.local : address.peer;
    request.attribute(IFA_ADDRESS, remote.data(), remote.size());
    exchange(request.bytes(), "add an address to the network interface in the container");
}

void RtNetlink::set_up(int index) {
    ifinfomsg info{};
    info.ifi_family = AF_UNSPEC;
    info.ifi_index = index;
    info.ifi_flags = IFF_UP;
    info.ifi_change = IFF_UP;
    Request request(RTM_NEWLINK, NLM_F_ACK, info);
    exchange(request.bytes(), "set the network interface up in the container");
}

}  // namespace crunlite::sys
