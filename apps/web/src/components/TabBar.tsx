/** The tabs of a detail panel (a node's, a candidate's): one button per tab, the open one marked. */
export function TabBar<T extends string>({
  tabs,
  current,
  onChange,
}: {
  tabs: readonly T[];
  current: T;
  onChange: (tab: T) => void;
}) {
  return (
    <div className="tabs" role="tablist">
      {tabs.map((t) => (
        <button
          key={t}
          type="button"
          role="tab"
          aria-selected={current === t}
          className={`tab ${current === t ? 'tab-active' : ''}`}
          onClick={() => onChange(t)}
        >
          {t}
        </button>
      ))}
    </div>
  );
}
