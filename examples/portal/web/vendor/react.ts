// The portal's one copy of React, shared through the import map ("react"), so every React
// micro-frontend renders with the same instance (hooks and context need that).
import * as React from 'react';

export default React;
export const {
  Children,
  Component,
  Fragment,
  StrictMode,
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
  useSyncExternalStore,
} = React;
