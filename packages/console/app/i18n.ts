import { getLang } from './session.store';

/** Console strings; Chinese is the default like the API's messages, English follows the switch. */
const zh = {
  title: 'RemoteGPU 推理平台',
  signIn: '登录', signOut: '退出', token: '访问令牌', tokenHint: '粘贴 npm start 打印的令牌或 npm run token 生成的令牌',
  tokenRequired: '请输入令牌', tokenRejected: '令牌无效或已过期（401）：{message}', language: 'English',
  services: '推理服务', models: '模型', create: '创建服务', name: '名称', status: '状态', replicas: '副本',
  ready: '就绪/期望', created: '创建时间', all: '全部', filterName: '按名称筛选', filterStatus: '按状态筛选',
  pageSize: '每页', shown: '显示 {shown} / {total} 个服务', prev: '上一页', next: '下一页', page: '第 {page} / {pages} 页，共 {total} 条', empty: '暂无数据', loading: '加载中…',
  live: '实时更新', offline: '实时连接已断开，正在重连…',
  description: '描述', workspace: '工作空间', model: '模型', version: '版本', cpu: 'CPU（核）', memory: '内存（GiB）',
  gpu: 'GPU', submit: '提交', cancel: '取消', framework: '框架', task: '任务',
  spec: '规格', endpoint: '调用地址', events: '事件', predict: '推理测试', image: '图片', run: '运行',
  stop: '停止', start: '启动', scale: '扩缩容', changeVersion: '切换版本', delete: '删除', apply: '应用',
  confirmDelete: '确认删除 {name}？此操作不可撤销。', confirm: '确认', logs: '副本日志', refresh: '刷新',
  register: '注册模型', upload: '上传版本', file: 'ONNX 文件', dropHere: '拖放 .onnx 文件到此处，或点击选择',
  labels: '类别标签（每行一个）', preprocessing: '预处理（JSON，可选）', inputs: '输入', outputs: '输出', size: '大小',
  versions: '版本', uploaded: '版本已上传', noVersions: '暂无版本', back: '返回', reason: '原因',
  logsUnavailable: '日志不可用', follow: '实时跟踪', dropImage: '拖放图片到此处，或点击选择',
  replicaStates: '副本状态', replicaId: '副本', replicaState: '状态', restarts: '重启次数', device: '设备', message: '信息',
  noReplicas: '暂无副本',
};
type Key = keyof typeof zh;
const en: Record<Key, string> = {
  title: 'RemoteGPU Inference',
  signIn: 'Sign in', signOut: 'Sign out', token: 'Access token', tokenHint: 'Paste the token npm start printed or one from npm run token',
  tokenRequired: 'Enter a token', tokenRejected: 'The token was refused (401): {message}', language: '中文',
  services: 'Services', models: 'Models', create: 'Create service', name: 'Name', status: 'Status', replicas: 'Replicas',
  ready: 'Ready/desired', created: 'Created', all: 'All', filterName: 'Filter by name', filterStatus: 'Filter by status',
  pageSize: 'Per page', shown: 'Showing {shown} of {total} services', prev: 'Previous', next: 'Next', page: 'Page {page} of {pages}, {total} in all', empty: 'Nothing here yet', loading: 'Loading…',
  live: 'Live', offline: 'Live updates disconnected, reconnecting…',
  description: 'Description', workspace: 'Workspace', model: 'Model', version: 'Version', cpu: 'CPU (cores)', memory: 'Memory (GiB)',
  gpu: 'GPU', submit: 'Submit', cancel: 'Cancel', framework: 'Framework', task: 'Task',
  spec: 'Spec', endpoint: 'Endpoint', events: 'Events', predict: 'Try a prediction', image: 'Image', run: 'Run',
  stop: 'Stop', start: 'Start', scale: 'Scale', changeVersion: 'Change version', delete: 'Delete', apply: 'Apply',
  confirmDelete: 'Delete {name}? This cannot be undone.', confirm: 'Confirm', logs: 'Replica logs', refresh: 'Refresh',
  register: 'Register model', upload: 'Upload version', file: 'ONNX file', dropHere: 'Drop an .onnx file here, or click to choose',
  labels: 'Class labels (one per line)', preprocessing: 'Preprocessing (JSON, optional)', inputs: 'Inputs', outputs: 'Outputs', size: 'Size',
  versions: 'Versions', uploaded: 'Version uploaded', noVersions: 'No versions yet', back: 'Back', reason: 'Reason',
  logsUnavailable: 'Logs unavailable', follow: 'Follow', dropImage: 'Drop an image here, or click to choose',
  replicaStates: 'Replica states', replicaId: 'Replica', replicaState: 'State', restarts: 'Restarts', device: 'Device', message: 'Message',
  noReplicas: 'No replicas',
};

export function t(key: Key, params: Record<string, string | number> = {}): string {
  const text = (getLang() === 'en' ? en : zh)[key];
  return text.replace(/\{(\w+)\}/g, (_m, name: string) => String(params[name] ?? ''));
}

const STATUS_ZH: Record<string, string> = {
  creating: '创建中', running: '运行中', updating: '更新中', stopping: '停止中', stopped: '已停止', failed: '失败',
};
/** Statuses stay machine words in English (as the API writes them) and are translated in Chinese. */
export function statusLabel(status: string): string {
  return getLang() === 'en' ? status : (STATUS_ZH[status] ?? status);
}
