/** A panel: a one-line title rule, then content clipped to the panel's box. */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import { fit } from './format.js';

export interface PanelProps {
  title: string;
  /** Dim text after the title, e.g. a count. */
  note?: string;
  width: number;
  height: number;
  color?: string;
  children?: ReactNode;
}

export function Panel({ title, note, width, height, color = 'cyan', children }: PanelProps) {
  if (width <= 0 || height <= 0) return null;
  const head = fit(`─ ${title} `, width);
  const tail = note && width - [...head].length > 4 ? fit(`${note} `, width - [...head].length - 2) : '';
  const rest = Math.max(0, width - [...head].length - [...tail].length);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden" flexShrink={0}>
      <Text wrap="truncate-end">
        <Text color={color} bold>{head}</Text>
        <Text dimColor>{tail}</Text>
        <Text color={color} dimColor>{'─'.repeat(rest)}</Text>
      </Text>
      {height > 1 && (
        <Box flexDirection="column" width={width} height={height - 1} overflow="hidden">
          {children}
        </Box>
      )}
    </Box>
  );
}

/** One line of a panel, never wrapped. */
export function Line({ children, dim = false, color }: { children?: ReactNode; dim?: boolean; color?: string }) {
  return <Text wrap="truncate-end" dimColor={dim} color={color}>{children}</Text>;
}
