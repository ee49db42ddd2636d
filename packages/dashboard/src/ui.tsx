/** Small pieces every page uses. */
import { getFormRegistry, type WorkflowStatus } from '@gptmarket/sdk';
import { useEffect, useRef, type ReactNode } from 'react';
import { STATUS_LABEL } from './format.js';
import { navigatedInPage } from './router.js';

/** A page's heading: focused when the page is shown after a navigation, so screen readers announce it. */
export function PageHeading({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (navigatedInPage()) ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

export function StatusBadge({ status }: { status: WorkflowStatus }) {
  return <span className={`badge badge-${status}`}>{STATUS_LABEL[status]}</span>;
}

/** A type's name from the form registry (`ruby` → `Ruby`); the type itself for one this build does not know. */
export const typeName = (type: string): string => (getFormRegistry() as Record<string, { name: string }>)[type]?.name ?? type;
