import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

/**
 * Kafka's range assignment under its standard protocol name `range`, so Java, librdkafka and Sarama
 * (Dapr's) consumers can share a group with ours. kafkajs ships only a round-robin assigner that
 * spreads every topic over every member whatever they subscribed to; every outrig subscription is
 * its own group member, so members with different topics are the normal case here, and each topic
 * must go only to the members that asked for it.
 *
 * For every topic, its partitions are split into contiguous ranges over the members subscribed to
 * it, sorted by member ID; the first `partitions % members` members get one extra.
 */
export const rangeAssigner: PartitionAssigner = ({ cluster }) => ({
  name: "range",
  version: 0,
  async assign({ members }) {
    const subscribers = new Map<string, string[]>();
    for (const member of [...members].sort((a, b) => a.memberId.localeCompare(b.memberId))) {
      const { topics } = AssignerProtocol.MemberMetadata.decode(member.memberMetadata) ?? {
        topics: [],
      };
      for (const topic of topics) {
        const list = subscribers.get(topic) ?? [];
        list.push(member.memberId);
        subscribers.set(topic, list);
      }
    }
    // The leader's metadata covers only its own topics; other members may have asked for more.
    await cluster.addMultipleTargetTopics([...subscribers.keys()]);

    const assignment = new Map<string, Record<string, number[]>>(
      members.map((m) => [m.memberId, {}]),
    );
    for (const [topic, memberIds] of subscribers) {
      const partitions = cluster
        .findTopicPartitionMetadata(topic)
        .map((p) => p.partitionId)
        .sort((a, b) => a - b);
      const per = Math.floor(partitions.length / memberIds.length);
      const extra = partitions.length % memberIds.length;
      let next = 0;
      memberIds.forEach((memberId, i) => {
        const count = per + (i < extra ? 1 : 0);
        if (count === 0) return;
        const target = assignment.get(memberId) as Record<string, number[]>;
        target[topic] = partitions.slice(next, next + count);
        next += count;
      });
    }
    return [...assignment].map(([memberId, topics]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({
        version: 0,
        assignment: topics,
        userData: Buffer.alloc(0),
      }),
    }));
  },
  protocol({ topics }) {
    return {
      name: "range",
      metadata: AssignerProtocol.MemberMetadata.encode({
        version: 0,
        topics,
        userData: Buffer.alloc(0),
      }),
    };
  },
});
