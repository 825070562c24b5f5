import { api } from './api.client';

export interface TensorSpec { name: string; datatype: string; shape: (number | string)[] }
export interface ModelVersion {
  model_id: number; version: string; format: string; size_bytes: number; sha256: string;
  inputs: TensorSpec[]; outputs: TensorSpec[]; labels: string[]; created_at: string;
}
export interface Model { model_id: number; name: string; workspace_id: number; framework: string; task: string; description: string; created_at: string }
export interface ModelDetail extends Model { versions: ModelVersion[] }
interface Page<T> { items: T[]; pagination: { total: number; total_pages: number } }

export const listModels = (page = 1) => api<Page<Model>>('GET', `/models?page=${page}&page_size=100`);
export const getModel = (id: number) => api<ModelDetail>('GET', `/models/${id}`);
