/**
 * The processor's partition assigner (DESIGN.md, The pipeline): partition p of every subscribed
 * topic goes to the same member, so one member sees all of a customer's events (a "partition
 * pair"). Members are sorted by id; partitions p are dealt round-robin over them. The memory bus
 * assigns the same way.
 */
import './kafkajs-preload.js'; // before kafkajs: see there
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const CO_PARTITIONED_ASSIGNER_NAME = 'StoresimCoPartitioned';

/** Pure: member ids and partition counts per topic → topic → partitions per member. */
export function coPartitionedAssignment(
  memberIds: string[],
  partitionsByTopic: Record<string, number>,
): Map<string, Record<string, number[]>> {
  const sorted = [...memberIds].sort();
  const result = new Map<string, Record<string, number[]>>(sorted.map((id) => [id, {}]));
  if (sorted.length === 0) return result;
  const topics = Object.keys(partitionsByTopic).sort();
  const max = Math.max(0, ...topics.map((t) => partitionsByTopic[t]!));
  for (let p = 0; p < max; p++) {
    const assignment = result.get(sorted[p % sorted.length]!)!;
    for (const t of topics) {
      if (p < partitionsByTopic[t]!) (assignment[t] ??= []).push(p);
    }
  }
  return result;
}

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER_NAME,
  version: 1,
  async assign({ members, topics }) {
    const partitionsByTopic: Record<string, number> = {};
    for (const t of topics) partitionsByTopic[t] = cluster.findTopicPartitionMetadata(t).length;
    const plan = coPartitionedAssignment(members.map((m) => m.memberId), partitionsByTopic);
    return [...plan].map(([memberId, assignment]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return {
      name: CO_PARTITIONED_ASSIGNER_NAME,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }),
    };
  },
});
